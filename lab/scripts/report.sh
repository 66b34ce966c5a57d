#!/usr/bin/env bash
# The short report at the end of `make lab`.
set -euo pipefail
cd "$(dirname "$0")/../.."
vip=$(awk '/^keepalived_vip:/ {print $2}' inventory/lab/group_vars/all.yml | cut -d/ -f1)
port=6443
holder=none
for lb in lb1 lb2; do
  if docker exec "$lb" ip -o addr show to "$vip" 2>/dev/null | grep -q .; then holder=$lb; fi
done
healthz=$(docker exec client curl -sk --max-time 3 "https://$vip:$port/healthz" || echo "no answer")
cat <<REPORT

================ kubeha lab ================
VIP holder          : $holder
/healthz via the VIP: $healthz   (from the client container)
kubeadm snippet     :
$(sed 's/^/    /' .build/kubeadm-endpoint.yaml 2>/dev/null || echo "    controlPlaneEndpoint: \"$vip:$port\"")
Control planes run a kube-apiserver STAND-IN (lab/standin), not kube-apiserver.

Log in      : docker exec -it lb1 bash      (lb1 lb2 cp1 cp2 cp3 client)
Re-converge : ansible-playbook -i inventory/lab site.yml
Remove      : make lab-down
============================================
REPORT
