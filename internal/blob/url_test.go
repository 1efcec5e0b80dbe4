package blob_test

import (
	"context"
	"testing"

	"github.com/periscope-sunset/periscope-sunset/internal/blob"
)

func TestParseS3URL(t *testing.T) {
	cases := []struct {
		raw            string
		bucket, prefix string
		wantErr        bool
	}{
		{raw: "s3://bucket", bucket: "bucket"},
		{raw: "s3://bucket/", bucket: "bucket"},
		{raw: "s3://bucket/exports", bucket: "bucket", prefix: "exports/"},
		{raw: "s3://bucket/exports/2021/", bucket: "bucket", prefix: "exports/2021/"},
		{raw: "s3://bucket//exports//", bucket: "bucket", prefix: "exports/"},
		{raw: "s3://", wantErr: true},
		{raw: "s3:///prefix", wantErr: true},
		{raw: "https://bucket/prefix", wantErr: true},
		{raw: "bucket/prefix", wantErr: true},
	}
	for _, c := range cases {
		t.Run(c.raw, func(t *testing.T) {
			bucket, prefix, err := blob.ParseS3URL(c.raw)
			if (err != nil) != c.wantErr {
				t.Fatalf("error = %v, want error %v", err, c.wantErr)
			}
			if bucket != c.bucket || prefix != c.prefix {
				t.Errorf("= %q, %q; want %q, %q", bucket, prefix, c.bucket, c.prefix)
			}
		})
	}
}

func TestOpenURL(t *testing.T) {
	cases := []struct {
		name, raw string
		want      string // the store's String(), or "" for an error
		s3        bool
	}{
		{"relative path", "sunset-state", "sunset-state", false},
		{"path cleaned", "./a/../exports/", "exports", false},
		{"absolute path", "/srv/exports", "/srv/exports", false},
		{"file URL", "file:///srv/exports", "/srv/exports", false},
		{"file URL localhost", "file://localhost/srv/exports", "/srv/exports", false},
		{"file URL with host", "file://nas/srv/exports", "", false},
		{"s3 bucket", "s3://bucket", "s3://bucket/", true},
		{"s3 prefix", "s3://bucket/exports/run", "s3://bucket/exports/run/", true},
		{"s3 no bucket", "s3:///exports", "", true},
		{"other scheme", "gs://bucket/exports", "", false},
		{"empty", "", "", false},
	}
	cfg := blob.S3Config{Region: "us-east-1", Endpoint: "http://127.0.0.1:1", PathStyle: true}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			st, err := blob.Open(context.Background(), c.raw, cfg)
			if c.want == "" {
				if err == nil {
					t.Fatalf("Open(%q) = %v, want an error", c.raw, st)
				}
				return
			}
			if err != nil {
				t.Fatalf("Open(%q): %v", c.raw, err)
			}
			if got := st.String(); got != c.want {
				t.Errorf("String() = %q, want %q", got, c.want)
			}
			if _, isS3 := st.(*blob.S3Store); isS3 != c.s3 {
				t.Errorf("got a %T", st)
			}
		})
	}
}
