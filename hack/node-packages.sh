#!/usr/bin/env bash
# Installs the Debian packages a real test node needs when any is missing:
# containerd and runc (the container runtime; Debian's runc is built with
# cgo and libseccomp, which a Go-only build cannot be), the CNI plugins,
# busybox-static (the test images' userland) and python3 (the interpreter
# and standard library the Python components' image copies). Idempotent; a
# no-op when all are present. Needs root (apt-get), as the node itself does.
set -euo pipefail

need=()
[[ -x /usr/bin/containerd ]] || need+=(containerd)
[[ -x /usr/sbin/runc ]] || need+=(runc)
[[ -x /usr/lib/cni/bridge && -x /usr/lib/cni/host-local && -x /usr/lib/cni/loopback ]] || need+=(containernetworking-plugins)
[[ -x /bin/busybox ]] || need+=(busybox-static)
[[ -x /usr/bin/python3 ]] || need+=(python3)
[[ -x /usr/sbin/iptables ]] || need+=(iptables)
[[ -f /etc/ssl/certs/ca-certificates.crt ]] || need+=(ca-certificates)

if [[ ${#need[@]} -eq 0 ]]; then
	echo "node-packages.sh: containerd, runc, CNI plugins, busybox, python3 present"
	exit 0
fi
if [[ $(id -u) -ne 0 ]]; then
	echo "node-packages.sh: missing ${need[*]} and not root: install them with apt-get" >&2
	exit 1
fi
echo "node-packages.sh: installing ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
