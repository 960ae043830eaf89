#!/usr/bin/env bash
# Sweeps through a real Slurm cluster: starts a single-node cluster on this machine (Debian's
# slurmctld, slurmd and munge), submits experiments/slurm-cpu.sbatch as job arrays, and checks
#   1. shards run at the same time into one runs/ folder merge into the tables of one process,
#      byte for byte;
#   2. an array task cancelled mid-way (scancel): resubmitting the array completes the sweep,
#      no finished cell is recomputed (contents and modification times unchanged) and no
#      half-written file remains;
#   3. two jobs racing on the same cells (an overlapping resubmission) leave every result
#      whole, written once, and the same table.
# Every daemon it started is stopped on exit, also when a step fails.
#
# Usage: ci/slurm-test.sh [path/to/resgen]   (default target/release/resgen; run as root, or
# with passwordless sudo for the package install and the daemons).
#
# Settings for a container without systemd or cgroups (why):
#   ProctrackType=proctrack/linuxproc  tracks job processes through /proc; the cgroup plugin
#                                      needs a writable cgroup hierarchy, which containers lack.
#   TaskPlugin=task/none               no CPU binding (task/affinity and task/cgroup need
#                                      sched_setaffinity rights or cgroups).
#   JobAcctGatherType=jobacct_gather/none, AccountingStorageType=accounting_storage/none
#                                      no slurmdbd; so sacct has no data here and the test
#                                      monitors with squeue and the job logs.
#   SelectTypeParameters=CR_CPU        allocate single CPUs, so 2 tasks share a 2-CPU node.
#   daemons run in the foreground (-D) under this script, not under systemd; munged gets its
#   own key and socket in a private folder.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
RESGEN=$(realpath "${1:-target/release/resgen}")
START=$(date +%s)
[ -x "$RESGEN" ] || { echo "slurm-test: $RESGEN not found; build it with cargo build --release -p resgen" >&2; exit 1; }

SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null || ! command -v munged >/dev/null \
    || ! command -v sbatch >/dev/null; then
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -qq
    $SUDO apt-get install -y -qq --no-install-recommends slurmctld slurmd slurm-client munge >/dev/null
fi

W=$(mktemp -d /tmp/resgen-slurm.XXXXXX)
chmod 700 "$W"
mkdir -p "$W/state" "$W/spool" "$W/logs" "$W/exp"
PIDS=()
cleanup() {
    local rc=$?
    set +e
    if [ -n "${SLURM_CONF:-}" ] && [ -f "$SLURM_CONF" ]; then
        scancel --quiet --user="$(id -un)" 2>/dev/null
    fi
    for p in "${PIDS[@]}"; do $SUDO kill "$p" 2>/dev/null; done
    for p in "${PIDS[@]}"; do
        for _ in $(seq 50); do $SUDO kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
        $SUDO kill -9 "$p" 2>/dev/null
    done
    if [ "$rc" != 0 ]; then
        echo "slurm-test FAILED (exit $rc); daemon and job logs:" >&2
        for f in "$W"/*.log "$W"/logs/*; do [ -f "$f" ] && { echo "== $f" >&2; tail -n 25 "$f" >&2; }; done
    fi
    $SUDO rm -rf "$W"
    exit "$rc"
}
trap cleanup EXIT INT TERM

fail() { echo "slurm-test: $*" >&2; exit 1; }

# munge: a fresh key and a private socket.
$SUDO dd if=/dev/urandom of="$W/munge.key" bs=1024 count=1 status=none
$SUDO chmod 600 "$W/munge.key"
$SUDO munged --force --foreground --key-file="$W/munge.key" --socket="$W/munge.sock" \
    --pid-file="$W/munged.pid" --log-file="$W/munged.log" --seed-file="$W/munged.seed" >>"$W/munged.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 50); do [ -S "$W/munge.sock" ] && break; sleep 0.1; done
[ -S "$W/munge.sock" ] || fail "munged did not start"

HOST=$(hostname -s)
NODE=$(slurmd -C | head -n 1 | sed "s/^NodeName=[^ ]*/NodeName=$HOST/")
CPUS=$(nproc)
USER_NAME=$(id -un)
cat > "$W/slurm.conf" <<CONF
ClusterName=resgen-test
SlurmctldHost=$HOST(127.0.0.1)
SlurmctldPort=16817
SlurmdPort=16818
SlurmUser=$USER_NAME
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$W/munge.sock
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
KillWait=2
MailProg=/bin/true
StateSaveLocation=$W/state
SlurmdSpoolDir=$W/spool
SlurmctldPidFile=$W/slurmctld.pid
SlurmdPidFile=$W/slurmd.pid
SlurmctldLogFile=$W/slurmctld.log
SlurmdLogFile=$W/slurmd.log
$NODE NodeAddr=127.0.0.1 State=UNKNOWN
PartitionName=test Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF=$W/slurm.conf
$SUDO env SLURM_CONF="$SLURM_CONF" slurmctld -D -i >>"$W/slurmctld.out.log" 2>&1 &
PIDS+=($!)
$SUDO env SLURM_CONF="$SLURM_CONF" slurmd -D >>"$W/slurmd.out.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 100); do
    sinfo -h -o '%t' 2>/dev/null | grep -qE '^(idle|mix|alloc)' && break
    sleep 0.3
done
sinfo -h -o '%t' | grep -qE '^(idle|mix|alloc)' || fail "the node did not come up: $(sinfo 2>&1)"
echo "slurm-test: cluster up on $HOST ($CPUS CPUs) after $(( $(date +%s) - START )) s"

# Waits (at most $2 seconds) until job $1 has left the queue.
wait_job() {
    local t0; t0=$(date +%s)
    while squeue -h -j "$1" 2>/dev/null | grep -q .; do
        [ $(( $(date +%s) - t0 )) -lt "$2" ] || fail "job $1 still queued after $2 s: $(squeue)"
        sleep 0.5
    done
}
# Submits the CPU sbatch file as an array of $1 tasks with the given environment; prints the id.
submit() {
    local tasks=$1; shift
    env "$@" RESGEN="$RESGEN" sbatch --parsable --array="1-$tasks" --cpus-per-task=1 --time=10 \
        --output="$W/logs/%A_%a.log" experiments/slurm-cpu.sbatch
}
# Every result.json under a runs folder with its content hash and modification time.
# (A rewrite, even with the same bytes, is a rename onto a new inode.)
snapshot() {
    find "$1" -name result.json | sort | while read -r f; do
        echo "$f $(stat -c '%i %Y' "$f") $(sha256sum < "$f" | cut -d ' ' -f 1)"
    done
}
sum() { awk '{ s += $1 } END { print s + 0 }'; }
same_tables() { # $1, $2: results folders; every table and raw table identical
    local n=0
    for f in "$1"/quick/*.csv "$1"/*.csv; do
        [ -f "$f" ] || continue
        cmp -s "$f" "$2/${f#"$1"/}" || fail "${f#"$1"/} differs between $1 and $2"
        n=$((n + 1))
    done
    [ "$n" -gt 0 ] || fail "no tables in $1"
    echo "slurm-test: $n tables byte-identical ($1 vs $2)"
}

# 1. Three shards at once, merged, against one process.
T0=$(date +%s)
JOB=$(submit 3 RESGEN_EXPERIMENTS="forward-scale grad-features" RESGEN_PROFILE=quick \
    RESGEN_RUNS="$W/runs-array" RESGEN_RESULTS="$W/res-array")
wait_job "$JOB" 120
for k in 1 2 3; do grep -q "shard done" "$W/logs/${JOB}_$k.log" || fail "array task $k did not finish"; done
ARRAY_S=$(( $(date +%s) - T0 ))
"$RESGEN" merge forward-scale grad-features --runs "$W/runs-array" --results "$W/res-array" >/dev/null
"$RESGEN" run forward-scale grad-features --quiet --runs "$W/runs-one" --results "$W/res-one" >/dev/null
same_tables "$W/res-array" "$W/res-one"
echo "slurm-test: 1. ($(( $(date +%s) - START )) s) array of 3 shards (forward-scale, grad-features quick) finished in $ARRAY_S s"

# 2. Cancel one array task mid-way, resubmit, nothing finished is redone.
# gd-dynamics with its profiles replaced by a small quick one (every other table kept).
awk '/^\[/ { skip = ($0 ~ /^\[profiles\./) } !skip' experiments/gd-dynamics.toml > "$W/exp/gd-small.toml"
cat >> "$W/exp/gd-small.toml" <<'TOML'
[profiles.quick]
set = { "train.iterations" = 1000, "train.log_every" = 100, "model.width" = 64 }
grid = { dataset = ["sphere"], "model.arch" = ["resnet", "fc"], "model.depth" = [4, 8, 16] }
seeds = [0, 1]
TOML
EXP="$W/exp/gd-small.toml"
CELLS=12
JOB=$(submit 3 RESGEN_EXPERIMENTS="$EXP" RESGEN_PROFILE=quick RESGEN_RUNS="$W/runs-fault" RESGEN_RESULTS="$W/res-fault")
count() { find "$W/runs-fault" -name result.json 2>/dev/null | wc -l; }
t0=$(date +%s)
until [ "$(count)" -ge 2 ] && squeue -h -j "${JOB}_1" -t R | grep -q .; do
    [ $(( $(date +%s) - t0 )) -lt 120 ] || fail "no cells finished within 120 s"
    sleep 0.2
done
scancel "${JOB}_1"
wait_job "$JOB" 180
BEFORE=$(count)
[ "$BEFORE" -lt "$CELLS" ] || fail "every cell finished before the cancellation; nothing was tested"
grep -q "shard done" "$W/logs/${JOB}_1.log" && fail "the cancelled task finished anyway"
snapshot "$W/runs-fault" > "$W/before.txt"
JOB2=$(submit 3 RESGEN_EXPERIMENTS="$EXP" RESGEN_PROFILE=quick RESGEN_RUNS="$W/runs-fault" RESGEN_RESULTS="$W/res-fault")
wait_job "$JOB2" 180
[ "$(count)" -eq "$CELLS" ] || fail "after the resubmission $(count) of $CELLS cells have results"
# Every result that existed before the resubmission is byte-identical, with the same mtime.
snapshot "$W/runs-fault" | grep -Fxf "$W/before.txt" | diff -q - "$W/before.txt" >/dev/null \
    || fail "a finished cell was recomputed or rewritten by the resubmission"
RAN=$(cat "$W"/logs/"${JOB2}"_*.log | sed -n 's/.* \([0-9]*\) run, .*/\1/p' | sum)
[ "$RAN" -eq $((CELLS - BEFORE)) ] || fail "the resubmission ran $RAN cells, expected $((CELLS - BEFORE))"
LEFT=$(find "$W/runs-fault" -name '*.tmp' | wc -l)
[ "$LEFT" -eq 0 ] || fail "$LEFT temporary (half-written) files remain"
"$RESGEN" merge "$EXP" --runs "$W/runs-fault" --results "$W/res-fault" >/dev/null
"$RESGEN" run "$EXP" --quiet --runs "$W/runs-fault-one" --results "$W/res-fault-one" >/dev/null
same_tables "$W/res-fault" "$W/res-fault-one"
echo "slurm-test: 2. ($(( $(date +%s) - START )) s) cancelled a task with $BEFORE of $CELLS cells done; the resubmission ran the other $RAN, rewrote none"

# 3. Two jobs race on the same cells (each runs the whole sweep, unsharded).
J1=$(submit 1 RESGEN_EXPERIMENTS="forward-scale" RESGEN_PROFILE=quick RESGEN_RUNS="$W/runs-race" RESGEN_RESULTS="$W/res-race")
J2=$(submit 1 RESGEN_EXPERIMENTS="forward-scale" RESGEN_PROFILE=quick RESGEN_RUNS="$W/runs-race" RESGEN_RESULTS="$W/res-race")
wait_job "$J1" 120
wait_job "$J2" 120
for j in "$J1" "$J2"; do grep -q "shard done" "$W/logs/${j}_1.log" || fail "racing job $j failed"; done
RACED=$(cat "$W/logs/${J1}_1.log" "$W/logs/${J2}_1.log" | sed -n 's/.*(\([0-9]*\) finished first by another process.*/\1/p' | sum)
# merge parses every result.json: a partial or corrupt one is an error.
"$RESGEN" merge forward-scale --runs "$W/runs-race" --results "$W/res-race" >/dev/null || fail "a result.json is not whole"
"$RESGEN" merge forward-scale --runs "$W/runs-one" --results "$W/res-one" >/dev/null
same_tables "$W/res-race" "$W/res-one"
echo "slurm-test: 3. ($(( $(date +%s) - START )) s) two racing jobs: every result whole; $RACED cell(s) computed by both, written once"

echo "slurm-test: passed in $(( $(date +%s) - START )) s"
