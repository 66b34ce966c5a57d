#!/bin/sh
# What a kubectl user sees, beside bench/probe.py: on the lab's client, until
# the stop file exists,
#   - a loop of `kubectl get --raw /version`, an ordinary API read (one line
#     per call: "req START END EXIT OUTPUT"; not /readyz, which a terminating
#     apiserver fails on purpose while it still serves everything else), and
#   - a long-lived `kubectl get --raw ...?watch=true` stream, started again
#     whenever it ends ("event TIME" per event line, "stream_end TIME EXIT").
# Usage: kubectl_probe.sh OUT STOP [SECONDS]   (kubectl uses ~/.kube/config)
out="$1" stop="$2" limit="${3:-900}"
: > "$out"
end=$(( $(date +%s) + limit ))
now() { date +%s.%N; }
watch() {
  while [ ! -f "$stop" ] && [ "$(date +%s)" -lt "$end" ]; do
    kubectl get --raw '/api/v1/namespaces/default/events?watch=true' --request-timeout=0 2>/dev/null \
      | while read -r _; do echo "event $(now)" >> "$out"; done
    echo "stream_end $(now)" >> "$out"
    sleep 0.2
  done
}
watch &
watcher=$!
while [ ! -f "$stop" ] && [ "$(date +%s)" -lt "$end" ]; do
  t0=$(now)
  answer=$(kubectl get --raw /version --request-timeout=5s 2>&1)
  rc=$?
  case "$answer" in *'"gitVersion"'*) answer=ok ;; esac
  answer=$(printf '%s' "$answer" | tr '\n' ' ' | cut -c1-200)
  echo "req $t0 $(now) $rc $answer" >> "$out"
  sleep 0.1
done
kill "$watcher" 2>/dev/null
pkill -f 'kubectl get --raw /api/v1/namespaces/default/events' 2>/dev/null
echo "end $(now)" >> "$out"
exit 0
