#!/bin/sh
# replay_session.sh: replays the session fuzz corpus (tests/fuzz/
# corpus_session: the seeds of make_corpus_session.py and every input that
# once crashed netd) through the fuzz target built without libFuzzer.
# Speaks TAP: one result per input. Run by "make check"; by hand, set
# NETD_TOP_SRCDIR and NETD_TOP_BUILDDIR.

: "${NETD_TOP_SRCDIR:?NETD_TOP_SRCDIR is not set}"
: "${NETD_TOP_BUILDDIR:?NETD_TOP_BUILDDIR is not set}"

exec "$NETD_TOP_BUILDDIR/tests/fuzz/replay_session" "$NETD_TOP_SRCDIR/tests/fuzz/corpus_session"/*
