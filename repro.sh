#!/bin/bash
set -e
insmod /tmp/helper_write_rsunion.ko
D=$(mktemp -d); mount -t tmpfs t $D; cd $D; mkdir -p l/d u w m
echo hi > l/d/f; echo hi > l/g
touch -m -d @1000000000 l/d
touch -a -d @1500000000 l/d/f l/g
mount -t rsunion -o lowerdir=$PWD/l,upperdir=$PWD/u,workdir=$PWD/w none m
echo "read only: cat m/g"; cat m/g >/dev/null; stat -c 'l/g atime %X' l/g
chmod 600 m/d/f
stat -c '%n mtime %Y' l/d u/d m/d
stat -c '%n atime %X' l/d/f u/d/f
