#!/bin/sh
# The data-plane image's entrypoint. A volume that Fly.io or a Hetzner host mounts on the data
# directory arrives owned by root, and PostgreSQL refuses to run as root: started as root, it
# hands the data directory to the image's user (once: only while its top is not theirs yet) and
# runs `webhost "$@"` as that user. Started as anyone else, it runs `webhost "$@"` as they are.
set -eu

data_dir=${WEBHOST_DATA_DIR:-/data}
user=${WEBHOST_RUN_AS:-webhost}

if [ "$(id -u)" -ne 0 ]; then
  exec webhost "$@"
fi

uid=$(id -u "$user") || { echo "webhost-entrypoint: no user $user in the image" >&2; exit 1; }
gid=$(id -g "$user")
mkdir -p "$data_dir"
if [ "$(stat -c %u "$data_dir")" != "$uid" ]; then
  chown -R "$uid:$gid" "$data_dir"
fi
exec setpriv --reuid="$uid" --regid="$gid" --init-groups -- webhost "$@"
