package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// Without SGX, calibrate cannot measure: exit 2 with a message that says so.
func TestCalibrateWithoutSGX(t *testing.T) {
	var out, errb bytes.Buffer
	err := run(context.Background(), []string{"calibrate", "--size", "DC4s_v2", "-o", t.TempDir() + "/p.json"}, &out, &errb)
	if err == nil {
		t.Skip("this host has SGX: calibrate would run")
	}
	code := exitCode(err, &errb)
	if code != exitUsage || !strings.Contains(errb.String(), "SGX") {
		t.Fatalf("exit %d, stderr %q; want 2 naming SGX", code, errb.String())
	}
}

func TestCalibrateFromMissingDir(t *testing.T) {
	var out, errb bytes.Buffer
	err := run(context.Background(), []string{"calibrate", "--size", "DC4s_v2", "--from", t.TempDir() + "/none"}, &out, &errb)
	if code := exitCode(err, &errb); code != exitUsage {
		t.Fatalf("exit %d (%v), want 2", code, err)
	}
}
