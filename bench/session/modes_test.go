package session

import (
	"strings"
	"testing"

	"github.com/enclavebench/enclavebench/bench/host"
)

// TestPickEnclaveMode checks that --modes auto picks from the descriptors'
// needs what it picked before descriptors existed, with the same reasons.
func TestPickEnclaveMode(t *testing.T) {
	sgx := host.SGX{SGX1: true, SGX2: true, CPUFlags: []string{"sgx"}, Devices: []string{"/dev/sgx_enclave"}, Usable: true}
	cpuOnly := host.SGX{SGX1: true, CPUFlags: []string{"sgx"}}
	ego := host.EGo{Installed: true, Version: "1.7.0"}
	tests := []struct {
		name      string
		fp        host.Fingerprint
		mode, why string
	}{
		{"sgx and ego", host.Fingerprint{SGX: sgx, EGo: ego}, "sgx",
			"SGX is usable (/dev/sgx_enclave) and EGo 1.7.0 is installed"},
		{"ego only", host.Fingerprint{SGX: cpuOnly, EGo: ego}, "ego-sim",
			"EGo 1.7.0 is installed but SGX is not usable here (no /dev/sgx_enclave or /dev/sgx/enclave device)"},
		{"nothing", host.Fingerprint{}, "sim",
			"neither SGX (the CPU reports no SGX) nor EGo is available: enclave figures come from the sim model"},
		{"sgx without ego", host.Fingerprint{SGX: sgx}, "sim",
			"neither SGX (SGX usable) nor EGo is available: enclave figures come from the sim model"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, why := pickEnclaveMode(&tt.fp)
			if m != tt.mode || why != tt.why {
				t.Errorf("pickEnclaveMode = %q, %q; want %q, %q", m, why, tt.mode, tt.why)
			}
		})
	}
	expand := []struct {
		name string
		fp   host.Fingerprint
		want string
	}{
		{"sgx and ego", host.Fingerprint{SGX: sgx, EGo: ego}, "native,sgx"},
		// ego-sim enforces no EPC limit: sim comes along for the sizing.
		{"ego only", host.Fingerprint{SGX: cpuOnly, EGo: ego}, "native,ego-sim,sim"},
		{"nothing", host.Fingerprint{}, "native,sim"},
	}
	for _, tt := range expand {
		var msg strings.Builder
		if got := strings.Join(ExpandModes([]string{"auto"}, &tt.fp, &msg), ","); got != tt.want {
			t.Errorf("%s: --modes auto = %s, want %s (%s)", tt.name, got, tt.want, msg.String())
		}
		if tt.name == "ego only" && !strings.Contains(msg.String(), "ego-sim enforces no EPC limit, so sim is added") {
			t.Errorf("ego only: %q", msg.String())
		}
	}
	if got := binaryModes(); got != "native and sim" {
		t.Errorf("binaryModes() = %q, want %q", got, "native and sim")
	}
}
