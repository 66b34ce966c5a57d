#!/usr/bin/env bash
# Give the named lab containers a real-time CPU budget, so keepalived can raise
# itself to real-time priority there (keepalived_max_auto_priority) as it can
# on a real host. The containers also need CAP_SYS_NICE (molecule.yml).
#
# Only cgroup v1 with real-time group scheduling needs this: there a cgroup
# without a budget (cpu.rt_runtime_us 0, Docker's default) cannot run a
# real-time task at all. The containers' parent cgroup gets 40 % of each
# second, each container 5 %. Elsewhere (cgroup v2) there is nothing to do.
# Best effort: says what it could not do and exits 0.
#   rt-budget.sh lb1 lb2
set -uo pipefail

CHILD_US=50000
PARENT_US=400000

for name in "$@"; do
  pid=$(docker inspect -f '{{.State.Pid}}' "$name" 2>/dev/null) || { echo "rt-budget: no container $name"; continue; }
  rel=$(awk -F: '$2 ~ /(^|,)cpu(,|$)/ {print $3}' "/proc/$pid/cgroup" 2>/dev/null)
  dir=$(ls -d /sys/fs/cgroup/cpu /sys/fs/cgroup/cpu,cpuacct 2>/dev/null | head -n 1)
  if [ -z "$rel" ] || [ -z "$dir" ] || [ ! -e "$dir$rel/cpu.rt_runtime_us" ]; then
    echo "rt-budget: $name: no real-time group scheduling here (cgroup v2, or a kernel without it): nothing to do"
    continue
  fi
  parent="$dir$(dirname "$rel")/cpu.rt_runtime_us"
  if [ "$(cat "$parent")" -lt "$PARENT_US" ]; then
    echo "$PARENT_US" > "$parent" 2>/dev/null || echo "rt-budget: cannot write $parent (not root?)"
  fi
  # docker update records it for the container's next start (Docker 20.10 does
  # not apply it to a running one); the running one gets it directly
  docker update --cpu-rt-runtime "$CHILD_US" "$name" >/dev/null 2>&1 || true
  if echo "$CHILD_US" > "$dir$rel/cpu.rt_runtime_us" 2>/dev/null; then
    echo "rt-budget: $name: ${CHILD_US} us of real-time CPU per second"
  else
    echo "rt-budget: $name: cannot write $dir$rel/cpu.rt_runtime_us; keepalived stays at normal priority there"
  fi
done
exit 0
