package blob_test

import (
	"strings"
	"testing"

	"github.com/periscope-sunset/periscope-sunset/internal/blob"
)

func TestParseTags(t *testing.T) {
	eleven := make([]string, 11)
	for i := range eleven {
		eleven[i] = "k" + strings.Repeat("x", i) + "=v"
	}
	for _, c := range []struct {
		name  string
		pairs []string
		bad   string // part of the error, "" for none
	}{
		{"one", []string{"periscope-sunset-export=true"}, ""},
		{"empty value", []string{"k="}, ""},
		{"allowed punctuation", []string{"a+b-c.d_e:f/g@h=x y+z-=./:@_"}, ""},
		{"unicode letters", []string{"été=naïve"}, ""},
		{"ten", eleven[:10], ""},
		{"eleven", eleven, "at most 10"},
		{"no equals", []string{"k"}, "KEY=VALUE"},
		{"empty key", []string{"=v"}, "empty key"},
		{"duplicate", []string{"k=1", "k=2"}, "twice"},
		{"reserved", []string{"aws:createdBy=me"}, "reserved"},
		{"reserved upper", []string{"AWS:x=1"}, "reserved"},
		{"long key", []string{strings.Repeat("k", 129) + "=v"}, "129 characters"},
		{"key at limit", []string{strings.Repeat("é", 128) + "=v"}, ""},
		{"long value", []string{"k=" + strings.Repeat("v", 257)}, "257 characters"},
		{"ampersand smuggles a tag", []string{"k=v&aws:x=1"}, "'&'"},
		{"newline", []string{"k=v\nx"}, `'\n'`},
		{"percent", []string{"k=100%"}, "'%'"},
		{"invalid utf-8", []string{"k=\xff"}, "not allowed"},
	} {
		t.Run(c.name, func(t *testing.T) {
			tags, err := blob.ParseTags(c.pairs)
			switch {
			case c.bad == "" && err != nil:
				t.Fatalf("ParseTags(%q): %v", c.pairs, err)
			case c.bad == "" && len(tags) != len(c.pairs):
				t.Fatalf("ParseTags(%q) = %v", c.pairs, tags)
			case c.bad != "" && (err == nil || !strings.Contains(err.Error(), c.bad)):
				t.Fatalf("ParseTags(%q) = %v, want an error with %q", c.pairs, err, c.bad)
			}
		})
	}
}

func TestCheckEncryption(t *testing.T) {
	for _, c := range []struct {
		e  blob.Encryption
		ok bool
	}{
		{blob.Encryption{}, true},
		{blob.Encryption{Mode: "AES256"}, true},
		{blob.Encryption{Mode: "aws:kms"}, true},
		{blob.Encryption{Mode: "aws:kms", KMSKeyID: "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"}, true},
		{blob.Encryption{Mode: "aws:kms", KMSKeyID: "alias/exports"}, true},
		{blob.Encryption{Mode: "AES256", KMSKeyID: "alias/exports"}, false},
		{blob.Encryption{KMSKeyID: "alias/exports"}, false},
		{blob.Encryption{Mode: "aes256"}, false},
		{blob.Encryption{Mode: "aws:kms:dsse"}, false},
		{blob.Encryption{Mode: "aws:kms", KMSKeyID: "alias/x\r\nX-Amz-Acl: public-read"}, false},
	} {
		if err := blob.CheckEncryption(c.e); (err == nil) != c.ok {
			t.Errorf("CheckEncryption(%+v) = %v, want ok=%v", c.e, err, c.ok)
		}
	}
}

func TestCheckStorageClass(t *testing.T) {
	for class, ok := range map[string]bool{
		"": true, "STANDARD": true, "STANDARD_IA": true, "INTELLIGENT_TIERING": true, "GLACIER_IR": true,
		"ONEZONE_IA": true, "GLACIER": false, "DEEP_ARCHIVE": false, "standard_ia": false, "COLD": false,
	} {
		if err := blob.CheckStorageClass(class); (err == nil) != ok {
			t.Errorf("CheckStorageClass(%q) = %v, want ok=%v", class, err, ok)
		}
	}
}

func TestCheckOwner(t *testing.T) {
	for id, ok := range map[string]bool{
		"": true, "111122223333": true, "a1b2c3d4e5f6a7b8c9d0": true,
		"1111 2222": false, "111122223333\r\nX: y": false, "../x": false, strings.Repeat("1", 129): false,
	} {
		if err := blob.CheckOwner(id); (err == nil) != ok {
			t.Errorf("CheckOwner(%q) = %v, want ok=%v", id, err, ok)
		}
	}
}
