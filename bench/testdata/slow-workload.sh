#!/bin/sh
# A stand-in workload binary for the signal tests (never used outside
# tests): says hello, sleeps $SLOW_WORKLOAD_SECONDS (default 3) without a
# word, then sends one sample and its done line. Its time does not depend
# on the host's load.
P='@enclavebench/1 '
echo "${P}{\"type\":\"hello\",\"workload\":\"syscall\"}"
sleep "${SLOW_WORKLOAD_SECONDS:-3}"
echo "${P}{\"type\":\"sample\",\"sample\":{\"rep\":0,\"iters\":1,\"elapsed_ns\":5,\"values\":[{\"value\":5,\"unit\":\"ns/op\",\"better\":\"lower\"}]}}"
echo "${P}{\"type\":\"done\",\"elapsed_ns\":3000000000}"
