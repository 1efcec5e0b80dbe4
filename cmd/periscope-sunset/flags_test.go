package main

import (
	"reflect"
	"testing"

	"github.com/urfave/cli/v2"
)

// TestEveryFlagHasItsEnvVar walks the whole command tree as main builds it:
// every flag can be set from PERISCOPE_SUNSET_<FLAG> first (--shard-index
// also reads the array index AWS Batch or Kubernetes sets), so the README's
// promise holds for flags added later too.
func TestEveryFlagHasItsEnvVar(t *testing.T) {
	app := newApp()
	n := 0
	var walk func(path string, cmds []*cli.Command)
	walk = func(path string, cmds []*cli.Command) {
		for _, c := range cmds {
			p := path + " " + c.Name
			for _, f := range c.Flags {
				n++
				name := f.Names()[0]
				got := reflect.ValueOf(f).Elem().FieldByName("EnvVars").Interface().([]string)
				if len(got) == 0 || got[0] != env(name)[0] || (len(got) > 1 && name != "shard-index") {
					t.Errorf("%s --%s: env vars %v, want %v", p, name, got, env(name))
				}
			}
			walk(p, c.Subcommands)
		}
	}
	walk("periscope-sunset", app.Commands)
	if n < 50 {
		t.Errorf("walked %d flags; the command tree looks empty", n)
	}
	t.Logf("%d flags checked", n)
}
