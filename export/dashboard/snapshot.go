package dashboard

import (
	"time"

	"github.com/periscope-sunset/periscope-sunset/export"
	"github.com/periscope-sunset/periscope-sunset/sunset"
)

// Snapshot is everything the page and /metrics show, read at one time.
type Snapshot struct {
	ReadAt      time.Time
	ReadSeconds float64 // how long the read took

	Schedule   sunset.Schedule
	Steps      []sunset.StepStatus
	NextAction string
	StateError string // the runbook state could not be read (the export still shows)

	Signups    sunset.Flag
	LastVerify *sunset.Event // the last `signups verify`, proven or not
	Export     *export.StatusReport
	Chart      []Point
	Rate       float64   // users per hour over the recent runs
	ETA        time.Time // zero when unknown
	Groups     []FailureGroup
	NotifySent int
	NotifyFail int
	NotifyRuns int
	Downloads  int
}

// Point is the cumulative users exported when a run finished.
type Point struct {
	At    time.Time
	Users int
}

// FailureGroup is the failures sharing one reason, with the first few users.
type FailureGroup struct {
	Reason string
	Count  int
	Users  []string
}
