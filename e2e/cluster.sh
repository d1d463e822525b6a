# A one-node Kubernetes cluster for the end-to-end suite, sourced by e2e/up
# and e2e/down: etcd, kube-apiserver, kube-controller-manager and
# kube-scheduler, and a node of kubelet, kube-proxy, containerd, runc and the
# CNI bridge plugin. Everything listens on the node's own address or on
# 127.0.0.1; Pods reach this machine and one another, and nothing beyond it.
# shellcheck shell=bash

NODE_NAME=e2e-node
# The node's address, on the loopback interface (this kernel has no dummy
# interfaces): the API server, the kubelet and the Connect workers listen on
# it, so that Pods reach them, and nothing outside this machine does.
NODE_IP=10.87.0.1
POD_BRIDGE=e2e-cni0
POD_CIDR=10.88.0.0/24
POD_GATEWAY=10.88.0.1
SERVICE_CIDR=10.0.0.0/24
APISERVER_URL="https://$NODE_IP:6443"
ETCD_PORT=2379
ETCD_PEER_PORT=2380

KUBE_DIR="$RUN_DIR/kube"
PKI="$KUBE_DIR/pki"
NODE_DIR="$RUN_DIR/node"
# containerd's sockets must stay under the 108 bytes of a unix socket path,
# whatever the clone's path: its state lives under /run.
CONTAINERD_STATE="/run/connect-operator-e2e/containerd"
CONTAINERD_SOCKET="/run/connect-operator-e2e/containerd.sock"

ctr() { command ctr --address "$CONTAINERD_SOCKET" --namespace k8s.io "$@"; }

# The node's address and the Pods' network rules. Forwarding is on for
# Service traffic that kube-proxy sends back to a Pod on the bridge; nothing
# from the bridge is forwarded anywhere else.
node_network() {
    # `replace`, not `add`: a second e2e/up (or a machine an earlier run left
    # it on) finds the address there already.
    ip addr replace "$NODE_IP/32" dev lo
    sysctl -q -w net.ipv4.ip_forward=1 net.bridge.bridge-nf-call-iptables=1
    iptables -C FORWARD -i "$POD_BRIDGE" ! -o "$POD_BRIDGE" -j REJECT 2>/dev/null ||
        iptables -I FORWARD -i "$POD_BRIDGE" ! -o "$POD_BRIDGE" -j REJECT
}

# cert NAME SUBJECT [SUBJECT_ALT_NAMES]: a key and a certificate signed by the cluster's CA.
cert() {
    local name="$1" subject="$2" san="${3:-}"
    [[ -f "$PKI/$name.crt" ]] && return
    local ext=()
    [[ -n "$san" ]] && ext=(-addext "subjectAltName=$san")
    openssl req -new -newkey rsa:2048 -nodes -keyout "$PKI/$name.key" -subj "$subject" "${ext[@]}" \
        -out "$PKI/$name.csr" 2>/dev/null
    openssl x509 -req -in "$PKI/$name.csr" -CA "$PKI/ca.crt" -CAkey "$PKI/ca.key" -CAcreateserial -days 30 \
        -copy_extensions copyall -out "$PKI/$name.crt" 2>/dev/null
    rm -f "$PKI/$name.csr"
}

# One CA for the API server's certificate and every client of the control
# plane; the identities are the ones Kubernetes' default RBAC and the Node
# authorizer know.
pki() {
    mkdir -p "$PKI"
    [[ -f "$PKI/ca.crt" ]] || openssl req -x509 -new -nodes -newkey rsa:2048 -keyout "$PKI/ca.key" \
        -subj "/CN=connect-operator-e2e-ca" -days 30 -out "$PKI/ca.crt" 2>/dev/null
    [[ -f "$PKI/sa.key" ]] || openssl genrsa -out "$PKI/sa.key" 2048 2>/dev/null
    cert apiserver "/CN=kube-apiserver" \
        "IP:$NODE_IP,IP:10.0.0.1,IP:127.0.0.1,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local"
    cert apiserver-kubelet-client "/O=system:masters/CN=kube-apiserver-kubelet-client"
    cert kube-controller-manager "/CN=system:kube-controller-manager"
    cert kube-scheduler "/CN=system:kube-scheduler"
    cert kube-proxy "/CN=system:kube-proxy"
    cert kubelet "/O=system:nodes/CN=system:node:$NODE_NAME"
    cert kubelet-serving "/CN=$NODE_NAME" "IP:$NODE_IP,DNS:$NODE_NAME"
    [[ -f "$KUBE_DIR/admin.token" ]] || head -c 24 /dev/urandom | base64 | tr -d '/+=' >"$KUBE_DIR/admin.token"
    # The test suite's own identity; the operator runs with its ServiceAccount's token.
    echo "$(cat "$KUBE_DIR/admin.token"),e2e-admin,e2e-admin,system:masters" >"$KUBE_DIR/tokens.csv"
}

# kubeconfig FILE USER: a component's kubeconfig, with its certificate.
component_kubeconfig() {
    local file="$1" user="$2"
    printf '%s\n' "apiVersion: v1" "kind: Config" "clusters:" \
        "  - name: e2e" \
        "    cluster: {server: \"$APISERVER_URL\", certificate-authority: \"$PKI/ca.crt\"}" \
        "users:" "  - name: $user" \
        "    user: {client-certificate: \"$PKI/$user.crt\", client-key: \"$PKI/$user.key\"}" \
        "contexts:" "  - name: e2e" "    context: {cluster: e2e, user: $user}" \
        "current-context: e2e" >"$file"
}

# token_kubeconfig FILE TOKEN NAMESPACE: the suite's and the operator's.
token_kubeconfig() {
    local file="$1" token="$2" namespace="$3"
    printf '%s\n' "apiVersion: v1" "kind: Config" "clusters:" \
        "  - name: e2e" \
        "    cluster: {server: \"$APISERVER_URL\", certificate-authority: \"$PKI/ca.crt\"}" \
        "users:" "  - name: e2e" "    user: {token: \"$token\"}" \
        "contexts:" "  - name: e2e" "    context: {cluster: e2e, user: e2e, namespace: $namespace}" \
        "current-context: e2e" >"$file"
}

up_etcd() {
    running etcd && return
    rm -rf "$RUN_DIR/etcd"
    start etcd "$ETCD_BIN" --data-dir "$RUN_DIR/etcd" --name default \
        --listen-client-urls "http://127.0.0.1:$ETCD_PORT" --advertise-client-urls "http://127.0.0.1:$ETCD_PORT" \
        --listen-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
        --initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
        --initial-cluster "default=http://127.0.0.1:$ETCD_PEER_PORT" --unsafe-no-fsync
    ready etcd 60 curl -fsS "http://127.0.0.1:$ETCD_PORT/health"
}

# The API server as a cluster runs it: the Node and RBAC authorizers, the
# default admission plugins (ServiceAccount and PodSecurity among them) and
# NodeRestriction, the `kubernetes` Service's endpoint kept on the node's
# address, where Pods reach it through kube-proxy.
up_apiserver() {
    running kube-apiserver && return
    start kube-apiserver "$(kube_bin kube-apiserver)" --etcd-servers="http://127.0.0.1:$ETCD_PORT" \
        --bind-address="$NODE_IP" --advertise-address="$NODE_IP" --secure-port=6443 \
        --tls-cert-file="$PKI/apiserver.crt" --tls-private-key-file="$PKI/apiserver.key" \
        --client-ca-file="$PKI/ca.crt" --token-auth-file="$KUBE_DIR/tokens.csv" \
        --kubelet-client-certificate="$PKI/apiserver-kubelet-client.crt" \
        --kubelet-client-key="$PKI/apiserver-kubelet-client.key" \
        --kubelet-certificate-authority="$PKI/ca.crt" --kubelet-preferred-address-types=InternalIP \
        --service-cluster-ip-range="$SERVICE_CIDR" --service-account-issuer=https://kubernetes.default.svc \
        --service-account-key-file="$PKI/sa.key" --service-account-signing-key-file="$PKI/sa.key" \
        --authorization-mode=Node,RBAC --enable-admission-plugins=NodeRestriction --allow-privileged=false
    ready kube-apiserver 180 curl -fsS --cacert "$PKI/ca.crt" "$APISERVER_URL/readyz"
}

up_controller_manager() {
    running kube-controller-manager && return
    local kubeconfig="$KUBE_DIR/kube-controller-manager.kubeconfig"
    component_kubeconfig "$kubeconfig" kube-controller-manager
    start kube-controller-manager "$(kube_bin kube-controller-manager)" --kubeconfig="$kubeconfig" \
        --authentication-kubeconfig="$kubeconfig" --authorization-kubeconfig="$kubeconfig" \
        --bind-address=127.0.0.1 --leader-elect=false --use-service-account-credentials \
        --service-account-private-key-file="$PKI/sa.key" --root-ca-file="$PKI/ca.crt" \
        --cluster-signing-cert-file="$PKI/ca.crt" --cluster-signing-key-file="$PKI/ca.key"
    ready kube-controller-manager 60 curl -fsSk https://127.0.0.1:10257/healthz
}

up_scheduler() {
    running kube-scheduler && return
    local kubeconfig="$KUBE_DIR/kube-scheduler.kubeconfig"
    component_kubeconfig "$kubeconfig" kube-scheduler
    start kube-scheduler "$(kube_bin kube-scheduler)" --kubeconfig="$kubeconfig" \
        --authentication-kubeconfig="$kubeconfig" --authorization-kubeconfig="$kubeconfig" \
        --bind-address=127.0.0.1 --leader-elect=false
    ready kube-scheduler 60 curl -fsSk https://127.0.0.1:10259/healthz
}

up_containerd() {
    running containerd && return
    mkdir -p "$NODE_DIR/cni" "$CONTAINERD_STATE" "$RUN_DIR/containerd"
    # The Pods' network: one bridge, addresses from POD_CIDR, no masquerade.
    cat >"$NODE_DIR/cni/10-e2e.conflist" <<EOF
{
  "cniVersion": "1.0.0",
  "name": "e2e-pods",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "$POD_BRIDGE",
      "isGateway": true,
      "ipMasq": false,
      "hairpinMode": true,
      "ipam": {
        "type": "host-local",
        "ranges": [[{"subnet": "$POD_CIDR", "gateway": "$POD_GATEWAY"}]],
        "routes": [{"dst": "0.0.0.0/0"}],
        "dataDir": "$NODE_DIR/ipam"
      }
    }
  ]
}
EOF
    # restrict_oom_score_adj: this sandbox lacks CAP_SYS_RESOURCE, and runc
    # fails a container whose oom_score_adj is set below its own.
    cat >"$NODE_DIR/containerd.toml" <<EOF
version = 2
root = "$RUN_DIR/containerd/root"
state = "$CONTAINERD_STATE"
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.zfs"]
[grpc]
  address = "$CONTAINERD_SOCKET"
[plugins."io.containerd.internal.v1.opt"]
  path = "$RUN_DIR/containerd/opt"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$PAUSE_IMAGE"
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$NODE_DIR/cni"
EOF
    start containerd containerd --config "$NODE_DIR/containerd.toml"
    ready containerd 30 ctr version
}

# import IMAGE: from buildah's storage into containerd's k8s.io namespace,
# named by the archive's own reference (buildah writes the whole name), which
# kubelet then finds: it pulls nothing. (`ctr import --index-name` fails
# when the name exists: "content digest ... not found".)
import_image() {
    local image="$1" archive="$RUN_DIR/image.tar"
    bash "$E2E_DIR/images/build" archive "$image" "$archive"
    ctr images import "$archive" >/dev/null || die "cannot import $image into containerd"
    [[ -n "$(ctr images ls -q "name==$image")" ]] || die "containerd does not list $image after its import"
    rm -f "$archive"
}

up_kubelet() {
    running kubelet && return
    mkdir -p "$NODE_DIR/pod-logs" "$RUN_DIR/kubelet"
    component_kubeconfig "$KUBE_DIR/kubelet.kubeconfig" kubelet
    # cgroup v1 with cgroupfs is what this machine has; no swap; its
    # allocatable is the node's whole size (there is no system slice to
    # reserve for).
    cat >"$NODE_DIR/kubelet.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: $NODE_IP
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: "$PKI/ca.crt"}
authorization: {mode: Webhook}
tlsCertFile: "$PKI/kubelet-serving.crt"
tlsPrivateKeyFile: "$PKI/kubelet-serving.key"
containerRuntimeEndpoint: "unix://$CONTAINERD_SOCKET"
cgroupDriver: cgroupfs
failSwapOn: false
failCgroupV1: false
enforceNodeAllocatable: []
podLogsDir: "$NODE_DIR/pod-logs"
# A node's disk thresholds are percentages of the disk it has to itself;
# this machine's disk holds everything else too, and at 85% used kubelet's
# image GC removes the imported images (nothing can pull them back) and at
# 85-90% its eviction marks the node DiskPressure, so no Pod starts. The
# thresholds here are amounts, and image GC is off.
evictionHard: {"nodefs.available": "1Gi", "imagefs.available": "1Gi", "memory.available": "100Mi"}
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
clusterDomain: cluster.local
resolvConf: /etc/resolv.conf
EOF
    start kubelet "$(kube_bin kubelet)" --config="$NODE_DIR/kubelet.yaml" \
        --kubeconfig="$KUBE_DIR/kubelet.kubeconfig" --hostname-override="$NODE_NAME" --node-ip="$NODE_IP" \
        --root-dir="$RUN_DIR/kubelet"
    ready kubelet 120 node_ready
}

node_ready() {
    [[ "$(kubectl get node "$NODE_NAME" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}')" == True ]]
}

up_kube_proxy() {
    running kube-proxy && return
    component_kubeconfig "$KUBE_DIR/kube-proxy.kubeconfig" kube-proxy
    # The conntrack table is left as the machine has it: kube-proxy would
    # otherwise resize it, which this sandbox does not allow.
    cat >"$NODE_DIR/kube-proxy.yaml" <<EOF
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection: {kubeconfig: "$KUBE_DIR/kube-proxy.kubeconfig"}
hostnameOverride: $NODE_NAME
mode: iptables
clusterCIDR: $POD_CIDR
nodePortAddresses: [primary]
healthzBindAddress: 127.0.0.1:10256
metricsBindAddress: 127.0.0.1:10249
conntrack:
  maxPerCore: 0
  min: 0
  tcpEstablishedTimeout: 0s
  tcpCloseWaitTimeout: 0s
EOF
    start kube-proxy "$(kube_bin kube-proxy)" --config="$NODE_DIR/kube-proxy.yaml"
    ready kube-proxy 60 curl -fsS http://127.0.0.1:10256/healthz
}

# Stops the node: kubelet first, so that it restarts nothing, then every
# container and Pod sandbox (containerd's shims outlive containerd), then
# what kubelet and the CNI plugin left mounted and kube-proxy's rules.
down_node() {
    stop kube-proxy
    stop kubelet
    if running containerd; then
        local task
        for task in $(ctr tasks ls -q 2>/dev/null); do ctr tasks kill -a -s SIGKILL "$task" >/dev/null 2>&1 || true; done
        sleep 1
        for task in $(ctr tasks ls -q 2>/dev/null); do ctr tasks rm -f "$task" >/dev/null 2>&1 || true; done
        for task in $(ctr containers ls -q 2>/dev/null); do ctr containers rm "$task" >/dev/null 2>&1 || true; done
    fi
    stop containerd
    pkill -KILL -f "containerd-shim-runc-v2 .*-address $CONTAINERD_SOCKET" 2>/dev/null || true
    # No grep in these pipes: finding nothing is normal here, and under
    # pipefail grep's exit status 1 would end e2e/down before it stops the rest.
    local mount ns
    for mount in $(findmnt -rn -o TARGET | awk -v run="$RUN_DIR" -v state="$CONTAINERD_STATE" \
        'index($0, run) == 1 || index($0, state) == 1 || index($0, "/run/netns/cni-") == 1' | sort -r); do
        umount -l "$mount" 2>/dev/null || true
    done
    for ns in $(ip netns list 2>/dev/null | awk '/^cni-/ {print $1}'); do ip netns delete "$ns" 2>/dev/null || true; done
    [[ -x "$(kube_bin kube-proxy)" ]] && "$(kube_bin kube-proxy)" --cleanup >/dev/null 2>&1 || true
    ip link delete "$POD_BRIDGE" 2>/dev/null || true
}
