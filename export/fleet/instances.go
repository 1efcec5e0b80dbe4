package fleet

// InstanceType is an EC2 instance size a shard can run on: one shard per
// instance, so a shard gets the whole network interface.
type InstanceType struct {
	Name      string `json:"name"`
	VCPUs     int    `json:"vcpus"`
	MemoryGiB int    `json:"memory_gib"`
}

// C7g lists the Graviton3 compute-optimised sizes, smallest first. The
// medium size (1 vCPU) is left out: the ECS agent and the OS take too large
// a share of it.
func C7g() []InstanceType {
	return []InstanceType{
		{"c7g.large", 2, 4},
		{"c7g.xlarge", 4, 8},
		{"c7g.2xlarge", 8, 16},
		{"c7g.4xlarge", 16, 32},
		{"c7g.8xlarge", 32, 64},
		{"c7g.12xlarge", 48, 96},
		{"c7g.16xlarge", 64, 128},
	}
}

// JobMemoryMiB is the memory a shard's job asks for: seven eighths of the
// instance, leaving the rest to the OS and the ECS agent (or kubelet) so
// that the job still fits on the instance it was sized for.
func (it InstanceType) JobMemoryMiB() int64 { return int64(it.MemoryGiB) * 1024 * 7 / 8 }
