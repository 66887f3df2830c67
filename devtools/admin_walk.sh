#!/usr/bin/env bash
# The administrator's walk through docs/install.md, timed (issue 14): a fresh clone of this
# branch onto a *plain* Asterisk 22 (a copy of the lab's cached chroot, Debian's own
# /etc/asterisk), one SIPp phone calling over a trunk and one as the receptionist, until the
# first measured call is on /metrics. Prints each step's seconds and the total from "plain
# Asterisk running" to "the call is counted".
#
#   CALLSLA_LAB_PORT_OFFSET=150 bash devtools/admin_walk.sh [SOURCE_REPO]
#
# What differs from a real site, and why: Asterisk runs in a chroot (paths on this host are
# prefixed with $ROOT, so the install is given --dpkg-status and each folder); the PBX's ports
# are the standard ones plus the offset and its RTP range is the lab's (neighbours share this
# machine); systemd is not PID 1 here, so the two services are started by hand from their
# units' ExecStart and environment files, as user callsla; SIPp stands in for the provider and
# the phone.
set -euo pipefail
OFS=${CALLSLA_LAB_PORT_OFFSET:?set CALLSLA_LAB_PORT_OFFSET (150 for this walk)}
SOURCE=${1:-$(cd "$(dirname "$0")/.." && pwd)}
TOOLS_PY=$SOURCE/.venv/bin/python   # writes the SIPp scenarios (lab.sip), not the admin's part
WALK=/var/lib/callsla-walk$OFS
ROOT=$WALK/root
CLONE=/root/admin-walk
VENV=/opt/callsla-walk$OFS
AMI_PORT=$((5038 + OFS)) SIP_PORT=$((5060 + OFS)) AGI_PORT=$((4573 + OFS))
METRICS_PORT=$((9464 + OFS))
read -r RTP_START RTP_END PHONES < <("$TOOLS_PY" -c "from lab.config import LabPorts
p = LabPorts($OFS); print(p.rtp_start, p.rtp_end, p.sip_phones)")
RECEPTION_PORT=$PHONES CALLER_PORT=$((PHONES + 10))
PIDS=()
t0=0
step() { printf '%6.1f s  %s\n' "$(awk "BEGIN { print $(date +%s.%N) - $t0 }")" "$*"; }
in_root() { chroot "$ROOT" "$@"; }
ast() { in_root /usr/sbin/asterisk -rx "$1"; }

cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    if [[ -S $ROOT/run/asterisk/asterisk.ctl ]]; then ast "core stop now" >/dev/null 2>&1 || true; fi
    [[ -n ${ASTERISK_PID:-} ]] && timeout 10 tail --pid="$ASTERISK_PID" -f /dev/null
    mountpoint -q "$ROOT" && umount "$ROOT"
    return 0
}
trap cleanup EXIT

# ---- before the clock: a plain Asterisk, as Debian's package leaves it ----------------------
cache=$(dirname "$(ls -d /var/cache/callsla-lab/asterisk-sid-*/.callsla-complete | head -1)")
if mountpoint -q "$ROOT"; then umount "$ROOT"; fi
rm -rf "$WALK" "$VENV"
mkdir -p "$WALK"/{upper,work,root,phones}
mount -t overlay overlay -o "lowerdir=$cache,upperdir=$WALK/upper,workdir=$WALK/work" "$ROOT"
rm -rf "$CLONE" && mkdir -m 0700 "$CLONE" && git clone -q "$SOURCE" "$CLONE"
# Debian's asterisk.service: RuntimeDirectory=asterisk, then `asterisk -g -f -p -U asterisk`.
in_root install -d -o asterisk -g asterisk /run/asterisk
chroot "$ROOT" /usr/sbin/asterisk -g -f -U asterisk -G asterisk > "$WALK/asterisk.out" 2>&1 &
ASTERISK_PID=$!
until ast "core waitfullybooted" >/dev/null 2>&1; do sleep 0.2; done
t0=$(date +%s.%N)
step "plain Asterisk running: $(ast 'core show version' | head -1)"

# ---- 1. Install callsla ---------------------------------------------------------------------
python3 -m venv "$VENV"
(cd "$CLONE" && "$VENV/bin/pip" install -q .)
dpkg-query -W espeak-ng sox >/dev/null || apt-get install -y -q espeak-ng sox
export PATH=$VENV/bin:$PATH
step "1. callsla installed in $VENV ($(callsla --version))"

# ---- 2. Look first --------------------------------------------------------------------------
ASTERISK=(--etc "$ROOT/etc/asterisk" --dpkg-status "$ROOT/var/lib/dpkg/status")
callsla pbx install "${ASTERISK[@]}" --dry-run > "$WALK/dry-run.txt"
step "2. dry run: $(grep -c '^replace:' "$WALK/dry-run.txt") Debian samples to replace," \
     "$(grep -c '^kept:' "$WALK/dry-run.txt" || true) site files kept"

# ---- 3. Install -----------------------------------------------------------------------------
callsla pbx install "${ASTERISK[@]}" --sounds "$ROOT/usr/share/asterisk/sounds" \
    --moh "$ROOT/usr/share/asterisk/moh" --log-dir "$ROOT/var/log/asterisk" > "$WALK/install.txt"
step "3. installed: $(grep -c '' "$WALK/install.txt") lines ($(grep '^music' "$WALK/install.txt"))"

# ---- 4. Fill in local/ ----------------------------------------------------------------------
L=$ROOT/etc/asterisk/local
MON_SECRET=$(python3 -c 'import secrets; print(secrets.token_hex(12))')
AGI_SECRET=$(python3 -c 'import secrets; print(secrets.token_hex(12))')
cat >> "$L/pjsip.conf" <<EOF

[transport-udp]
type = transport
protocol = udp
bind = 127.0.0.1:$SIP_PORT

; The provider (here a SIPp stand-in, identified by its From user "trunk").
[trunk]
type = endpoint
context = from-pstn
disallow = all
allow = alaw,ulaw
trust_id_inbound = yes
direct_media = no
send_connected_line = no
timers = no

[101]
type = endpoint
context = internal
disallow = all
allow = alaw,ulaw
aors = 101
direct_media = no
send_connected_line = no
timers = no
[101]
type = aor
contact = sip:101@127.0.0.1:$RECEPTION_PORT
EOF
echo "member => PJSIP/101,0,Siti (Kaunter 1),PJSIP/101" >> "$L/frontdesk-members.conf"
printf 'port = %s\nbindaddr = 127.0.0.1\n' "$AMI_PORT" >> "$L/manager-general.conf"
cat >> "$L/manager-users.conf" <<EOF

[callsla-monitor]
secret = $MON_SECRET
deny = 0.0.0.0/0.0.0.0
permit = 127.0.0.1/255.255.255.255
read = call,agent,user,dialplan,cdr,reporting
write =

[callsla-agi]
secret = $AGI_SECRET
deny = 0.0.0.0/0.0.0.0
permit = 127.0.0.1/255.255.255.255
read =
write = call
EOF
echo "2101 => 1234,Encik Ahmad bin Ali" >> "$L/voicemail-boxes.conf"
echo "CALLSLA_AGI = agi://127.0.0.1:$AGI_PORT" >> "$L/globals.conf"
sed -i 's/^;transmit_silence = yes/transmit_silence = yes/' "$ROOT/etc/asterisk/asterisk.conf"
# Not the doc's: this machine's neighbours need the lab's RTP range.
sed -i "s/^rtpstart=.*/rtpstart=$RTP_START/; s/^rtpend=.*/rtpend=$RTP_END/" \
    "$ROOT/etc/asterisk/rtp.conf"
ast "core restart now" >/dev/null
sleep 2
until ast "core waitfullybooted" >/dev/null 2>&1; do sleep 0.2; done
log=$ROOT/var/log/asterisk/messages
bad=$(sed -n '1,/Asterisk Ready/p' "$log" | grep -cE '(WARNING|ERROR)\[' || true)
step "4. local/ filled in, Asterisk restarted ($bad WARNING/ERROR lines at start)"

# ---- 5. The two services --------------------------------------------------------------------
id callsla >/dev/null 2>&1 ||
    useradd --system --user-group --home-dir /var/lib/callsla --shell /usr/sbin/nologin callsla
# (`usermod -aG asterisk callsla` is for a host whose Asterisk is not in a chroot: here the
# chroot's files are world-readable, and the host has no group asterisk.)
callsla services install --unit-dir "$WALK/systemd" --env-dir "$WALK/etc-callsla" \
    > "$WALK/services.txt"
install -d -o callsla -g callsla -m 0750 "$WALK/state"   # the units' StateDirectory
cat >> "$WALK/etc-callsla/monitor.env" <<EOF
CALLSLA_AMI_URL=tcp://callsla-monitor:$MON_SECRET@127.0.0.1:$AMI_PORT
CALLSLA_PBX=walk
CALLSLA_METRICS_ADDR=127.0.0.1:$METRICS_PORT
CALLSLA_DB_URL=sqlite:///$WALK/state/callsla.db
CALLSLA_QUEUE_LOG=$ROOT/var/log/asterisk/queue_log
CALLSLA_CDR_CSV=$ROOT/var/log/asterisk/cdr-csv/Master.csv
EOF
cat >> "$WALK/etc-callsla/agi-server.env" <<EOF
CALLSLA_AGI_AMI_URL=tcp://callsla-agi:$AGI_SECRET@127.0.0.1:$AMI_PORT
CALLSLA_PBX=walk
CALLSLA_AGI_ADDR=127.0.0.1:$AGI_PORT
CALLSLA_OUTBOX=$WALK/state/outbox
EOF
start_service() {  # as systemd would: read the EnvironmentFile as root, then run ExecStart
    local name=$1 unit=$WALK/systemd/callsla-$1.service   # as User=callsla, no new privileges
    (set -a; . "$WALK/etc-callsla/$name.env"; set +a; cd "$WALK/state"
     exec setpriv --reuid=callsla --regid=callsla --init-groups --no-new-privs \
         $(sed -n 's/^ExecStart=//p' "$unit")) > "$WALK/$name.log" 2>&1 &
    PIDS+=($!)
}
start_service agi-server
start_service monitor
until curl -sf "127.0.0.1:$METRICS_PORT/metrics" >/dev/null; do sleep 0.2; done
step "5. agi-server and monitor running (/metrics on port $METRICS_PORT)"

# ---- 6. Check -------------------------------------------------------------------------------
set +e
CALLSLA_AMI_URL=tcp://callsla-monitor:$MON_SECRET@127.0.0.1:$AMI_PORT callsla pbx check --etc "$ROOT/etc/asterisk" --log-dir "$ROOT/var/log/asterisk" \
    --sounds "$ROOT/usr/share/asterisk/sounds" --data-dir "$ROOT/usr/share/asterisk" \
    > "$WALK/check.txt" 2>&1
check=$?
set -e
step "6. pbx check exit $check: $(tail -1 "$WALK/check.txt")"

# ---- 7. The first measured call -------------------------------------------------------------
"$TOOLS_PY" - "$WALK/phones" "$RECEPTION_PORT" "$CALLER_PORT" "$SIP_PORT" <<'EOF'
import sys
from pathlib import Path
from lab.sip.scenarios import Answer, CallerSpec, Place, caller, phone
out, reception, calling, pbx = Path(sys.argv[1]), *map(int, sys.argv[2:])
(out / "101.xml").write_text(phone(Place("101", reception, pbx), Answer(after=3, talk=3)))
(out / "caller.xml").write_text(caller(Place("trunk", calling, pbx),
                                       CallerSpec(number="0312345678", dialled="0388001000",
                                                  patience=15)))
EOF
sipp -sf "$WALK/phones/101.xml" -i 127.0.0.1 -mi 127.0.0.1 -p "$RECEPTION_PORT" \
    -mp $((RECEPTION_PORT + 2)) -nostdin -aa -m 1 -timeout 60 > "$WALK/phones/101.log" 2>&1 &
PIDS+=($!)
sipp -sf "$WALK/phones/caller.xml" -i 127.0.0.1 -mi 127.0.0.1 -p "$CALLER_PORT" \
    -mp $((CALLER_PORT + 2)) -nostdin -aa -m 1 -l 1 -s 0388001000 "127.0.0.1:$SIP_PORT" \
    -timeout 60 > "$WALK/phones/caller.log" 2>&1 &
PIDS+=($!)
step "7. caller dials 0388001000 over the trunk"
answered() { curl -s "127.0.0.1:$METRICS_PORT/metrics" \
    | grep -E '^callsla_calls_answered_total\{.*queue="frontdesk"' | grep -qv ' 0.0$'; }
for _ in $(seq 300); do answered && break; sleep 0.2; done
answered || { step "no answered call on /metrics after 60 s"; exit 1; }
step "FIRST MEASURED CALL: $(curl -s "127.0.0.1:$METRICS_PORT/metrics" \
    | grep -E '^callsla_calls_answered_total\{.*frontdesk')"
