#!/bin/sh
# A stand-in workload binary for the signal tests (never used outside
# tests): says hello, sleeps $SLOW_WORKLOAD_SECONDS (default 3) without a
# word, then sends one sample and its done line. Its time does not depend
# on the host's load. With SLOW_WORKLOAD_STOP_HARNESS=1 it first stops its
# parent, the harness, with SIGSTOP (as Ctrl-Z on the harness's group
# would): the stop then lands as the workload starts, however late a test
# watching from outside would have seen it start on a loaded host.
P='@enclavebench/1 '
echo "${P}{\"type\":\"hello\",\"workload\":\"syscall\"}"
if [ "${SLOW_WORKLOAD_STOP_HARNESS:-}" = 1 ]; then
  kill -STOP "$PPID"
fi
sleep "${SLOW_WORKLOAD_SECONDS:-3}"
echo "${P}{\"type\":\"sample\",\"sample\":{\"rep\":0,\"iters\":1,\"elapsed_ns\":5,\"values\":[{\"value\":5,\"unit\":\"ns/op\",\"better\":\"lower\"}]}}"
echo "${P}{\"type\":\"done\",\"elapsed_ns\":3000000000}"
