#!/usr/bin/env bash
# The short report at the end of `make lab`.
set -euo pipefail
cd "$(dirname "$0")/../.."
# Everything below comes from the inventory, through the plan (lab/topology.py).
vip=$(python3 lab/topology.py endpoint.vip)
port=$(python3 lab/topology.py endpoint.port)
client=$(python3 lab/topology.py endpoint.probe_host)
lbs=$(python3 lab/topology.py endpoint.load_balancers)
hosts="$lbs $(python3 lab/topology.py endpoint.control_plane) $(python3 lab/topology.py endpoint.clients)"
holder=none
for lb in $lbs; do
  if docker exec "$lb" ip -o addr show to "$vip" 2>/dev/null | grep -q .; then holder=$lb; fi
done
healthz=$(docker exec "$client" curl -sk --max-time 3 "https://$vip:$port/healthz" || echo "no answer")
# The lab's Prometheus (role kubeha.control_plane.monitoring, on the client).
prometheus=$(docker exec "$client" curl -s --max-time 3 localhost:9090/api/v1/targets 2>/dev/null | python3 -c '
import json, sys
try:
    t = [x for x in json.load(sys.stdin)["data"]["activeTargets"] if x["labels"]["job"].startswith("kubeha-")]
    print("%d of %d kubeha targets up" % (sum(x["health"] == "up" for x in t), len(t)))
except Exception:
    print("not answering")' || echo "not answering")
firing=$(docker exec "$client" curl -s --max-time 3 localhost:9090/api/v1/alerts 2>/dev/null | python3 -c '
import json, sys
try:
    a = sorted(set(x["labels"]["alertname"] for x in json.load(sys.stdin)["data"]["alerts"] if x["state"] == "firing"))
    print(", ".join(a) or "none")
except Exception:
    print("unknown")' || echo "unknown")
cat <<REPORT

================ kubeha lab ================
VIP holder          : $holder
/healthz via the VIP: $healthz   (from the $client container)
Prometheus (client) : $prometheus; alerts firing: $firing
                      (docker exec $client curl -s localhost:9090/api/v1/alerts)
kubeadm snippet     :
$(sed 's/^/    /' .build/kubeadm-endpoint.yaml 2>/dev/null || echo "    controlPlaneEndpoint: \"$vip:$port\"")
Control planes run a kube-apiserver STAND-IN (lab/standin), not kube-apiserver.

Log in      : docker exec -it HOST bash      ($hosts)
Re-converge : ANSIBLE_CONFIG=lab/ansible.cfg ansible-playbook -i inventory/lab site.yml
Remove      : make lab-down
============================================
REPORT
