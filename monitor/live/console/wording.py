"""The console's words in Malay and English; Malay is the default (the charter is in Malay)."""

from __future__ import annotations

LANGUAGES = ("ms", "en")

# key -> (Malay, English)
WORDS: dict[str, tuple[str, str]] = {
    "title": ("Konsol Piagam Pelanggan", "Client Charter console"),
    "login": ("Log masuk", "Log in"),
    "logout": ("Log keluar", "Log out"),
    "username": ("Nama pengguna", "User name"),
    "password": ("Kata laluan", "Password"),
    "login_failed": ("Nama pengguna atau kata laluan salah.", "Wrong user name or password."),
    "callbacks": ("Panggilan balik", "Callbacks"),
    "open": ("Terbuka", "Open"),
    "overdue": ("Lewat", "Overdue"),
    "closed": ("Selesai", "Closed"),
    "caller_name": ("Nama pemanggil", "Caller's name"),
    "caller_number": ("Nombor", "Number"),
    "contacted_at": ("Masa", "Time"),
    "matter": ("Perkara", "Matter"),
    "officer": ("Pegawai", "Officer"),
    "due_at": ("Tarikh akhir", "Due"),
    "action_taken": ("Tindakan diambil", "Action taken"),
    "done_at": ("Tarikh tindakan", "Action date"),
    "informed_at": ("Tarikh pemanggil dimaklumkan", "Date caller informed"),
    "close": ("Tutup", "Close"),
    "closed_ok": ("Panggilan balik ditutup.", "Callback closed."),
    "none": ("Tiada.", "None."),
    "voicemail": ("Mesej suara", "Voicemail"),
    "no_voicemail": ("Mesej suara tidak dapat dimainkan di sini.",
                     "The voicemail cannot be played here."),
    "not_allowed": ("Anda tidak dibenarkan berbuat demikian.", "You may not do that."),
    "role": ("Peranan", "Role"),
}


def words_for(language: str) -> dict[str, str]:
    index = LANGUAGES.index(language) if language in LANGUAGES else 0
    return {key: pair[index] for key, pair in WORDS.items()}
