package main

import (
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"

	"github.com/urfave/cli/v2"
)

// profileFlags let ops profile a real run where it runs (a Batch job, a
// pod) with the standard Go tooling: `go tool pprof -top periscope-sunset
// cpu.pprof`. Profiling costs a few percent of CPU, so it is off unless
// asked for.
func profileFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "cpuprofile", EnvVars: env("cpuprofile"), Category: "Profiling",
			Usage: "write a CPU profile (runtime/pprof) of the whole command to this file"},
		&cli.StringFlag{Name: "memprofile", EnvVars: env("memprofile"), Category: "Profiling",
			Usage: "write a heap profile (runtime/pprof: live and allocated bytes) to this file when the command ends"},
	}
}

// startProfiles starts the profiles the flags ask for. The caller defers
// stop, which ends the CPU profile and writes the heap profile; stop
// reports its own failures on stderr, since by then the command's result
// is already decided.
func startProfiles(c *cli.Context) (stop func(), err error) {
	cpuPath, memPath := c.String("cpuprofile"), c.String("memprofile")
	var cpu *os.File
	if cpuPath != "" {
		if cpu, err = os.Create(cpuPath); err != nil {
			return nil, usagef(c, "--cpuprofile: %v", err)
		}
		if err := pprof.StartCPUProfile(cpu); err != nil {
			cpu.Close()
			return nil, fmt.Errorf("--cpuprofile: %w", err)
		}
	}
	if memPath != "" {
		// Fail now on an unwritable path rather than after an hour's run.
		f, err := os.Create(memPath)
		if err != nil {
			if cpu != nil {
				pprof.StopCPUProfile()
				cpu.Close()
			}
			return nil, usagef(c, "--memprofile: %v", err)
		}
		f.Close()
	}
	return func() {
		if cpu != nil {
			pprof.StopCPUProfile()
			if err := cpu.Close(); err != nil {
				fmt.Fprintf(c.App.ErrWriter, "periscope-sunset: --cpuprofile: %v\n", err)
			}
		}
		if memPath != "" {
			if err := writeHeapProfile(memPath); err != nil {
				fmt.Fprintf(c.App.ErrWriter, "periscope-sunset: --memprofile: %v\n", err)
			}
		}
	}, nil
}

// writeHeapProfile writes the heap profile after a GC, so its in-use
// figures are current; its alloc_space sample shows where the run
// allocated over its whole life.
func writeHeapProfile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	runtime.GC()
	if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
