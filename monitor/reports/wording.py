"""The report's words in Malay and English (Malay first: the charter is written in Malay)."""

from __future__ import annotations

from datetime import date

MONTHS_MS = ("Januari", "Februari", "Mac", "April", "Mei", "Jun", "Julai", "Ogos", "September",
             "Oktober", "November", "Disember")
MONTHS_EN = ("January", "February", "March", "April", "May", "June", "July", "August",
             "September", "October", "November", "December")

# indicator column -> (Malay, English)
LABELS: dict[str, tuple[str, str]] = {
    "month": ("Bulan", "Month"),
    "department": ("Bahagian", "Department"),
    "offered": ("Panggilan diterima", "Calls offered"),
    "answered": ("Dijawab", "Answered"),
    "answered_within_standard": ("Dijawab dalam 10 saat", "Answered within 10 s"),
    "answer_rate": ("Kadar jawab 10 saat", "10-second answer rate"),
    "missed": ("Tidak berjawab", "Missed calls"),
    "missed_abandoned": ("Pemanggil meletak telefon", "Abandoned"),
    "missed_timeout": ("Tamat masa menunggu", "Timed out"),
    "missed_no_agents": ("Tiada petugas", "No staff available"),
    "missed_transfer_unanswered": ("Pindahan tidak berjawab", "Transfer unanswered"),
    "missed_after_hours": ("Luar waktu pejabat", "After hours"),
    "missed_lost": ("Hilang semasa PBX dimulakan semula", "Lost in a PBX restart"),
    "missed_other": ("Lain-lain", "Other"),
    "mean_wait_seconds": ("Purata masa menunggu (s)", "Mean wait (s)"),
    "p90_wait_seconds": ("Masa menunggu P90 (s)", "90th percentile wait (s)"),
    "max_wait_seconds": ("Masa menunggu maksimum (s)", "Longest wait (s)"),
    "status_messages": ("Makluman status", "Status messages"),
    "status_kept": ("Makluman dalam 20 saat", "Within 20 s"),
    "status_rate": ("Pematuhan makluman status", "Status-message compliance"),
    "transfers": ("Panggilan disambungkan", "Transfers"),
    "transfers_returned": ("Dikembalikan ke kaunter", "Returned to the front desk"),
    "voicemails": ("Pesanan ditinggalkan", "Messages left"),
    "callbacks": ("Panggilan balik", "Callbacks"),
    "callbacks_on_time": ("Panggilan balik dalam tempoh", "Callbacks on time"),
    "callbacks_late": ("Panggilan balik lewat", "Callbacks late"),
    "callbacks_open": ("Panggilan balik belum selesai", "Callbacks open"),
    "callbacks_overdue": ("Belum selesai, lewat tempoh", "Open and overdue"),
    "callback_rate": ("Kadar panggilan balik dalam tempoh", "Callbacks on time rate"),
    # the per-person table (person_figures.py)
    "group": ("Giliran / bahagian", "Queue / department"),
    "person": ("Petugas / pegawai", "Receptionist / officer"),
    "rung": ("Deringan", "Rings"),
    "person_answered": ("Dijawab", "Answered"),
    "person_not_answered": ("Berdering, tidak dijawab", "Rung, not answered"),
    "person_answered_elsewhere": ("Dijawab oleh telefon lain", "Answered elsewhere"),
    "person_within": ("Dijawab dalam 10 saat", "Answered within 10 s"),
    "person_within_rate": ("Peratus dijawab dalam 10 saat", "Share answered within 10 s"),
}
RATE_COLUMNS = ("answer_rate", "status_rate", "callback_rate", "person_within_rate")
SECONDS_COLUMNS = ("mean_wait_seconds", "p90_wait_seconds", "max_wait_seconds")

TITLE = ("Laporan Suku Tahunan Pematuhan Piagam Pelanggan (Telefon)",
         "Quarterly Client Charter Compliance Report (Telephone)")
FRONT_DESK = ("Kaunter hadapan", "Front desk")
ALL = ("Semua", "All")
QUARTER_TOTAL = ("Suku tahun", "Quarter")


def bilingual(pair: tuple[str, str]) -> str:
    return f"{pair[0]} / {pair[1]}"


def label(column: str) -> str:
    return bilingual(LABELS[column])


RECEPTIONISTS = ("Petugas kaunter, giliran", "Receptionists, queue")
OFFICERS = ("Pegawai, bahagian", "Officers, department")
NO_DEPARTMENT = ("tiada dalam direktori", "not in the directory")


def person_group_name(kind: str, group: str) -> str:
    """`queue`/`frontdesk` -> `Petugas kaunter, giliran frontdesk / Receptionists, queue
    frontdesk`; an officer leg with no department is named as such."""
    ms, en = RECEPTIONISTS if kind == "queue" else OFFICERS
    name_ms, name_en = (group, group) if group else NO_DEPARTMENT
    return f"{ms} {name_ms} / {en} {name_en}"


def department_name(department: str) -> str:
    if department == "*":
        return bilingual(ALL)
    return bilingual(FRONT_DESK) if department == "" else department


def month_name(month: str) -> str:
    """`2026-08` -> `Ogos / August 2026`; `quarter` -> `Suku tahun / Quarter`."""
    if month == "quarter":
        return bilingual(QUARTER_TOTAL)
    year, number = (int(part) for part in month.split("-"))
    return f"{MONTHS_MS[number - 1]} / {MONTHS_EN[number - 1]} {year}"


def day_text(day: date) -> str:
    return day.isoformat()


def format_value(column: str, value: object) -> str:
    """Rates as percentages, waits to 0.1 s, counts as integers; n/a for nothing to measure."""
    if isinstance(value, float) and value != value:  # NaN: nothing offered / nothing to judge
        return "n/a"
    if column in RATE_COLUMNS:
        return f"{float(value) * 100:.1f}%"  # type: ignore[arg-type]
    if column in SECONDS_COLUMNS:
        return f"{float(value):.1f}"  # type: ignore[arg-type]
    return str(value)
