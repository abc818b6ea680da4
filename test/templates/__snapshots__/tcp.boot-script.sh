#!/bin/bash
# inlets exit node (tcp) by inletsctl; holds the token and TLS key
set -euo pipefail
umask 022
put_file() { # PATH OWNER MODE ENCODING; the content comes on stdin
  mkdir -p -- "$(dirname -- "$1")"
  local tmp
  tmp=$(mktemp -- "$1.XXXXXX")
  case "$4" in
    gz+b64) base64 -d | gunzip -c >"$tmp" ;;
    b64) base64 -d >"$tmp" ;;
    text) cat >"$tmp" ;;
    *) echo "put_file: unknown encoding $4" >&2; exit 1 ;;
  esac
  chown -- "$2" "$tmp"
  chmod -- "$3" "$tmp"
  mv -f -- "$tmp" "$1"
}

put_file /usr/local/lib/inlets/inlets.mjs root:root 0755 text <<'INLETS_EOF'
#!/usr/bin/env node
import { readFileSync as f } from 'node:fs';
import { brotliDecompressSync as b } from 'node:zlib';
await import('data:text/javascript;base64,' + b(f(new URL('inlets-server.mjs.br', import.meta.url))).toString('base64'));
INLETS_EOF
put_file /usr/local/lib/inlets/inlets-server.mjs.br root:root 0644 b64 <<'INLETS_EOF'
GzkA+OVt+51VNGrl/KKFIAqVUcpCUEWJizMtrVogzgYUA7aXzYkTzaG+epvyb+wrBIaRch4=
INLETS_EOF
put_file /etc/inlets/tls/server.crt root:root 0644 text <<'INLETS_EOF'
-----BEGIN CERTIFICATE-----
RklYVFVSRSBDRVJUSUZJQ0FURSwgbm90IGEgcmVhbCBvbmU=
-----END CERTIFICATE-----
INLETS_EOF
put_file /etc/inlets/tls/server.key root:root 0600 text <<'INLETS_EOF'
-----BEGIN PRIVATE KEY-----
RklYVFVSRSBLRVksIG5vdCBhIHJlYWwgb25l
-----END PRIVATE KEY-----
INLETS_EOF
put_file /etc/default/inlets root:root 0600 text <<'INLETS_EOF'
INLETS_TOKEN=0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0
INLETS_EOF
put_file /etc/systemd/system/inlets.service root:root 0644 text <<'INLETS_EOF'
[Unit]
Description=inlets tcp server (inletsctl)
After=network-online.target
Wants=network-online.target

[Service]
Type=exec
EnvironmentFile=/etc/default/inlets
LoadCredential=tls.crt:/etc/inlets/tls/server.crt
LoadCredential=tls.key:/etc/inlets/tls/server.key
ExecStart=/usr/bin/node /usr/local/lib/inlets/inlets.mjs tcp server --token-env INLETS_TOKEN --control-port 8123 --tls-cert %d/tls.crt --tls-key %d/tls.key
Restart=always
RestartSec=2
LimitNOFILE=1048576
DynamicUser=yes
StateDirectory=inlets
AmbientCapabilities=CAP_NET_BIND_SERVICE
CapabilityBoundingSet=CAP_NET_BIND_SERVICE
NoNewPrivileges=yes
ProtectSystem=strict
ProtectHome=yes
PrivateTmp=yes

[Install]
WantedBy=multi-user.target
INLETS_EOF

export DEBIAN_FRONTEND=noninteractive
apt-get -o DPkg::Lock::Timeout=300 update -q
apt-get -o DPkg::Lock::Timeout=300 install -y -q nodejs

systemctl daemon-reload
systemctl enable --now inlets.service
