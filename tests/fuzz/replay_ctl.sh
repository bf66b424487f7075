#!/bin/sh
# replay_ctl.sh: replays the control-socket fuzz corpus (tests/fuzz/corpus_ctl:
# the seeds of make_corpus_ctl.py and every input that once broke netd)
# through the fuzz target built without libFuzzer. Speaks TAP: one result
# per input. Run by "make check" (needs io_uring and a writable /tmp).

: "${NETD_TOP_SRCDIR:?NETD_TOP_SRCDIR is not set}"
: "${NETD_TOP_BUILDDIR:?NETD_TOP_BUILDDIR is not set}"

exec "$NETD_TOP_BUILDDIR/tests/fuzz/replay_ctl" "$NETD_TOP_SRCDIR/tests/fuzz/corpus_ctl"/*
