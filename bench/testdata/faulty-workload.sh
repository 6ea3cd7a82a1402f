#!/bin/sh
# A stand-in workload binary for tests of fault handling (never used outside
# tests). Its behaviour depends on the cell's size:
#   DC1s_v2: crashes after one sample; DC2s_v2: hangs; DC4s_v2: is killed by
#   SIGKILL; anything else: runs the real workload binary ($REAL_WORKLOAD).
size=""
prev=""
for a in "$@"; do
  [ "$prev" = "--size" ] && size="${a%%,*}" # NAME,vcpus=N,...
  prev="$a"
done
P='@enclavebench/1 '
case "$size" in
DC1s_v2)
  echo "${P}{\"type\":\"hello\",\"workload\":\"syscall\"}"
  echo "${P}{\"type\":\"sample\",\"sample\":{\"rep\":0,\"iters\":1,\"elapsed_ns\":5,\"values\":[{\"value\":5,\"unit\":\"ns/op\",\"better\":\"lower\"}]}}"
  echo "panic: runtime error: index out of range [3] with length 3" >&2
  echo "goroutine 1 [running]:" >&2
  exit 2 ;;
DC2s_v2)
  echo "${P}{\"type\":\"hello\",\"workload\":\"syscall\"}"
  exec sleep 600 ;;
DC4s_v2)
  echo "${P}{\"type\":\"hello\",\"workload\":\"syscall\"}"
  echo "about to be killed" >&2
  kill -9 $$ ;;
*)
  exec "$REAL_WORKLOAD" "$@" ;;
esac
