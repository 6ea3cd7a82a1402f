package workload

import (
	"errors"
	"fmt"
	"testing"
)

func TestIsNotApplicable(t *testing.T) {
	tests := []struct {
		err  error
		want bool
	}{
		{nil, false},
		{errors.New("disk full"), false},
		{NotApplicable{Reason: "no memfs outside an enclave"}, true},
		{NotApplicablef("call=%s: no OCALL", "clock"), true},
		{fmt.Errorf("preparing: %w", NotApplicable{Reason: "x"}), true},
	}
	for _, tt := range tests {
		if got := IsNotApplicable(tt.err); got != tt.want {
			t.Errorf("IsNotApplicable(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
	if err := NotApplicablef("call=%s", "clock"); err.Error() != "call=clock" {
		t.Errorf("NotApplicablef text = %q", err)
	}
}
