package export

// Status is what happened to one user in a run.
type Status string

const (
	StatusExported Status = "exported"
	StatusSkipped  Status = "skipped" // already exported from the same source
	StatusFailed   Status = "failed"
	// StatusDuplicate is a users.jsonl line repeating an id already seen:
	// reported, not a failed user (the first line was exported).
	StatusDuplicate Status = "duplicate"
)

// Outcome is the result for one user.
type Outcome struct {
	User     string
	Status   Status
	Bytes    int64 // bytes written for this user
	Reason   string
	Warnings []string
	Omitted  []Omission // left out of an exported user's export
}

// Progress receives a run's progress. Calls come from many goroutines at
// once; implementations must be safe for concurrent use.
type Progress interface {
	// Start is called once with the number of users the run will look at
	// (before sharding), or -1 when unknown.
	Start(users int)
	// Bytes is called as export bytes are produced.
	Bytes(n int64)
	// Done is called once per user of this shard.
	Done(o Outcome)
}

// Beginner is a Progress that also wants to know when a user's export
// starts, to count users in flight (metrics). Optional: Run finds it with
// a type assertion.
type Beginner interface {
	Begin(user string)
}

// NopProgress ignores every event.
type NopProgress struct{}

func (NopProgress) Start(int)    {}
func (NopProgress) Bytes(int64)  {}
func (NopProgress) Done(Outcome) {}
