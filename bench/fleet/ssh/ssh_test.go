package ssh

import (
	"strings"
	"testing"

	"github.com/enclavebench/enclavebench/bench/runspec"
	"github.com/enclavebench/enclavebench/bench/sizes"
)

func TestSSHPlanValidation(t *testing.T) {
	t.Parallel()
	dc2, _ := sizes.Lookup("DC2s_v2")
	ok := SSHOptions{PlanID: "p1", Hosts: []Host{{"azureuser@dc2", dc2}}, Spec: runspec.Spec{Workloads: []string{"syscall"}, Modes: []string{"sgx"}, Profile: "quick"}}
	if _, err := SSHPlan(ok); err != nil {
		t.Fatal(err)
	}
	for name, mut := range map[string]func(*SSHOptions){
		"option host":      func(o *SSHOptions) { o.Hosts[0].Addr = "-oProxyCommand=touch /tmp/x" },
		"shell host":       func(o *SSHOptions) { o.Hosts[0].Addr = "h;id" },
		"port in host":     func(o *SSHOptions) { o.Hosts[0].Addr = "h:2222" },
		"absolute remote":  func(o *SSHOptions) { o.RemoteDir = "/tmp/x" },
		"escaping remote":  func(o *SSHOptions) { o.RemoteDir = "a/../../b" },
		"quoted remote":    func(o *SSHOptions) { o.RemoteDir = "a'b" },
		"option local bin": func(o *SSHOptions) { o.LocalBin = "-rf" },
		"no hosts":         func(o *SSHOptions) { o.Hosts = nil },
		"bad workload":     func(o *SSHOptions) { o.Spec.Workloads = []string{"nosuch"} },
	} {
		o := ok
		o.Hosts = append([]Host(nil), ok.Hosts...)
		mut(&o)
		if _, err := SSHPlan(o); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestSSHPlanSteps(t *testing.T) {
	t.Parallel()
	dc2, _ := sizes.Lookup("DC2s_v2")
	plans, err := SSHPlan(SSHOptions{PlanID: "p1", Hosts: []Host{{"vm1", dc2}, {"vm2", dc2}}, Options: []string{"Port=2222"},
		Spec: runspec.Spec{Modes: []string{"sgx"}, Profile: "quick"}})
	if err != nil {
		t.Fatal(err)
	}
	// Two hosts of one size get distinct result directories.
	if plans[0].LocalOut == plans[1].LocalOut {
		t.Errorf("same result directory %s", plans[0].LocalOut)
	}
	var names []string
	for _, s := range plans[0].Steps {
		names = append(names, s.Name)
	}
	// sgx builds on the host: the source goes there too.
	if got := strings.Join(names, ","); got != "prepare,upload source,upload binaries,install binaries,run,wait for the run,copy results back" {
		t.Errorf("steps %s", got)
	}
	// The user's options come first: ssh keeps the first value.
	if line := plans[0].Steps[0].Line(); !strings.HasPrefix(line, "ssh -o Port=2222 -o BatchMode=yes") {
		t.Errorf("prepare: %s", line)
	}
}
