#!/bin/sh
# oci-image.sh: an OCI image archive of one layer, made from a directory by
# hand (tar, gzip, sha256sum), for `ctr images import`: no registry, no
# image builder.
#
# Usage: scripts/k8s/oci-image.sh OUT.tar REF ROOTFS CONFIG
#   REF     the image name containerd records, e.g. enclavebench.local/enclavebench:dev
#   ROOTFS  the directory that becomes the layer (owned by root in the layer;
#           modes and the numeric owners given by CHOWN below are kept)
#   CONFIG  a JSON object, the image config's "config" (User, Env,
#           Entrypoint, Cmd, WorkingDir: the OCI image spec's config.md)
# Environment: CHOWN="UID:GID:PATH ..." gives those paths (recursively) to UID:GID in the layer.
# The layer is reproducible: sorted names, mtime 0, no gzip timestamp.
set -eu
[ "$#" -eq 4 ] || { echo "usage: oci-image.sh OUT.tar REF ROOTFS CONFIG" >&2; exit 2; }
out=$1 ref=$2 rootfs=$3 config=$4
[ -d "$rootfs" ] || { echo "oci-image.sh: $rootfs: not a directory" >&2; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
blobs=$tmp/blobs/sha256
mkdir -p "$blobs"

# The layer: root-owned except the CHOWN paths.
tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "$rootfs" -cf "$tmp/layer.tar" .
for spec in ${CHOWN:-}; do
	uid=${spec%%:*} rest=${spec#*:}
	gid=${rest%%:*} path=${rest#*:}
	# Re-add the path with its owner; tar keeps the last entry of a name on extraction.
	tar --sort=name --mtime=@0 --owner="$uid" --group="$gid" --numeric-owner -C "$rootfs" -rf "$tmp/layer.tar" "./${path#/}"
done
diffid=$(sha256sum "$tmp/layer.tar" | cut -d' ' -f1)
gzip -n -c "$tmp/layer.tar" >"$tmp/layer.tar.gz"
layer=$(sha256sum "$tmp/layer.tar.gz" | cut -d' ' -f1)
mv "$tmp/layer.tar.gz" "$blobs/$layer"
layer_size=$(wc -c <"$blobs/$layer")

printf '{"architecture":"amd64","os":"linux","config":%s,"rootfs":{"type":"layers","diff_ids":["sha256:%s"]}}' \
	"$config" "$diffid" >"$tmp/config.json"
cfg=$(sha256sum "$tmp/config.json" | cut -d' ' -f1)
cfg_size=$(wc -c <"$tmp/config.json")
mv "$tmp/config.json" "$blobs/$cfg"

printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%d},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"sha256:%s","size":%d}]}' \
	"$cfg" "$cfg_size" "$layer" "$layer_size" >"$tmp/manifest.json"
man=$(sha256sum "$tmp/manifest.json" | cut -d' ' -f1)
man_size=$(wc -c <"$tmp/manifest.json")
mv "$tmp/manifest.json" "$blobs/$man"

printf '{"imageLayoutVersion":"1.0.0"}' >"$tmp/oci-layout"
printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%d,"annotations":{"io.containerd.image.name":"%s","org.opencontainers.image.ref.name":"%s"},"platform":{"architecture":"amd64","os":"linux"}}]}' \
	"$man" "$man_size" "$ref" "${ref##*:}" >"$tmp/index.json"
rm -f "$tmp/layer.tar"
tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "$tmp" -cf "$out" oci-layout index.json blobs
echo "oci-image: $out: $ref sha256:$man"
