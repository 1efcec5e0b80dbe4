package blob

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// What a security review asks of every request to a bucket is set once,
// when the store is opened (S3Config), and added here to each request
// input, so the upload code only makes one call per input it builds.

// Encryption is the server-side encryption asked for on every write.
type Encryption struct {
	// Mode is "" (the bucket's default), "AES256" (SSE-S3) or "aws:kms"
	// (SSE-KMS).
	Mode string
	// KMSKeyID is the KMS key for "aws:kms"; empty means the account's
	// AWS managed key (aws/s3).
	KMSKeyID string
}

// Tag is one S3 object tag.
type Tag struct{ Key, Value string }

// S3 limits on object tags.
const (
	maxTags        = 10
	maxTagKeyLen   = 128
	maxTagValueLen = 256
)

// CheckEncryption reports whether e is a mode S3 accepts, with a key only
// for aws:kms.
func CheckEncryption(e Encryption) error {
	switch types.ServerSideEncryption(e.Mode) {
	case "", types.ServerSideEncryptionAes256:
		if e.KMSKeyID != "" {
			return errors.New("a KMS key id needs the aws:kms encryption mode")
		}
		return nil
	case types.ServerSideEncryptionAwsKms:
		if strings.ContainsFunc(e.KMSKeyID, func(r rune) bool { return r <= ' ' || r > '~' }) {
			return fmt.Errorf("KMS key id %q: want a key id, key ARN, alias name or alias ARN", e.KMSKeyID)
		}
		return nil
	}
	return fmt.Errorf("encryption %q: want AES256 or aws:kms", e.Mode)
}

// CheckStorageClass reports whether class is one the SDK knows and whose
// objects can be read straight away: GLACIER and DEEP_ARCHIVE objects
// need a restore before any GET, so downloads and verify would fail.
func CheckStorageClass(class string) error {
	switch sc := types.StorageClass(class); {
	case class == "":
		return nil
	case sc == types.StorageClassGlacier || sc == types.StorageClassDeepArchive:
		return fmt.Errorf("storage class %s: its objects cannot be downloaded without a restore; use STANDARD_IA, INTELLIGENT_TIERING or GLACIER_IR", class)
	case slices.Contains(sc.Values(), sc):
		return nil
	}
	return fmt.Errorf("storage class %q: want one of %s", class, storageClassNames())
}

func storageClassNames() string {
	var names []string
	for _, v := range types.StorageClass("").Values() {
		if v != types.StorageClassGlacier && v != types.StorageClassDeepArchive {
			names = append(names, string(v))
		}
	}
	return strings.Join(names, ", ")
}

// ownerID is what S3 accepts as an expected bucket owner: a 12-digit AWS
// account id, or the owner id an S3-compatible server uses (versitygw's is
// its root access key).
var ownerID = regexp.MustCompile(`^[A-Za-z0-9]{1,128}$`)

// CheckOwner reports whether id can name a bucket owner. Only the
// characters are checked, since S3-compatible servers use other ids than
// AWS account numbers.
func CheckOwner(id string) error {
	if id != "" && !ownerID.MatchString(id) {
		return fmt.Errorf("bucket owner %q: want an account id (12 digits on AWS), letters and digits only", id)
	}
	return nil
}

// ParseTags reads KEY=VALUE pairs and checks them against S3's rules for
// object tags: at most 10, unique keys of 1-128 characters, values of up
// to 256, letters, digits, spaces and + - = . _ : / @ only, and no key
// in the reserved aws: namespace.
func ParseTags(pairs []string) ([]Tag, error) {
	if len(pairs) > maxTags {
		return nil, fmt.Errorf("%d tags: S3 allows at most %d per object", len(pairs), maxTags)
	}
	tags := make([]Tag, 0, len(pairs))
	seen := map[string]bool{}
	for _, p := range pairs {
		k, v, ok := strings.Cut(p, "=")
		if !ok {
			return nil, fmt.Errorf("tag %q: want KEY=VALUE", p)
		}
		if err := checkTag(k, v); err != nil {
			return nil, fmt.Errorf("tag %q: %w", p, err)
		}
		if seen[k] {
			return nil, fmt.Errorf("tag %q: key %q given twice", p, k)
		}
		seen[k] = true
		tags = append(tags, Tag{k, v})
	}
	return tags, nil
}

func checkTag(k, v string) error {
	switch n := utf8.RuneCountInString(k); {
	case n == 0:
		return errors.New("empty key")
	case n > maxTagKeyLen:
		return fmt.Errorf("key of %d characters: S3 allows %d", n, maxTagKeyLen)
	case strings.HasPrefix(strings.ToLower(k), "aws:"):
		return errors.New("keys starting with aws: are reserved by AWS")
	}
	if n := utf8.RuneCountInString(v); n > maxTagValueLen {
		return fmt.Errorf("value of %d characters: S3 allows %d", n, maxTagValueLen)
	}
	for _, r := range k + v {
		if !tagRune(r) {
			return fmt.Errorf("character %q not allowed: use letters, digits, spaces and + - = . _ : / @", r)
		}
	}
	return nil
}

// tagRune is a character S3 allows in tags; invalid UTF-8 decodes as
// utf8.RuneError, which is not one.
func tagRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsDigit(r) || r == ' ' || strings.ContainsRune("+-=._:/@", r)
}

// checkWriteOptions validates what S3Config asks of every request.
func checkWriteOptions(cfg S3Config) error {
	if err := CheckEncryption(cfg.Encryption); err != nil {
		return err
	}
	if err := CheckStorageClass(cfg.StorageClass); err != nil {
		return err
	}
	if _, err := ParseTags(tagPairs(cfg.Tags)); err != nil {
		return err
	}
	return CheckOwner(cfg.ExpectedBucketOwner)
}

func tagPairs(tags []Tag) []string {
	pairs := make([]string, len(tags))
	for i, t := range tags {
		pairs[i] = t.Key + "=" + t.Value
	}
	return pairs
}

// writeOptions is S3Config's per-request settings in the SDK's terms.
type writeOptions struct {
	owner        *string // ExpectedBucketOwner on every request
	sse          types.ServerSideEncryption
	kmsKey       *string
	storageClass types.StorageClass // archival writes only
	tagging      *string            // archival writes only, URL-encoded
}

func newWriteOptions(cfg S3Config) writeOptions {
	w := writeOptions{
		owner:        nilIfEmpty(cfg.ExpectedBucketOwner),
		sse:          types.ServerSideEncryption(cfg.Encryption.Mode),
		kmsKey:       nilIfEmpty(cfg.Encryption.KMSKeyID),
		storageClass: types.StorageClass(cfg.StorageClass),
	}
	if len(cfg.Tags) > 0 {
		q := url.Values{}
		for _, t := range cfg.Tags {
			q.Set(t.Key, t.Value)
		}
		w.tagging = aws.String(q.Encode())
	}
	return w
}

// archival returns the storage class and tagging for a write: set only on
// the objects PutOptions.Archival marks, since small state objects that
// are rewritten often (claims, reports) would pay STANDARD_IA's 30-day and
// 128 KiB minimums on every rewrite.
func (w writeOptions) archival(opts PutOptions) (types.StorageClass, *string) {
	if !opts.Archival {
		return "", nil
	}
	return w.storageClass, w.tagging
}

func (w writeOptions) putObject(in *s3.PutObjectInput, opts PutOptions) {
	in.ExpectedBucketOwner = w.owner
	in.ServerSideEncryption, in.SSEKMSKeyId = w.sse, w.kmsKey
	in.StorageClass, in.Tagging = w.archival(opts)
}

func (w writeOptions) createMultipart(in *s3.CreateMultipartUploadInput, opts PutOptions) {
	in.ExpectedBucketOwner = w.owner
	in.ServerSideEncryption, in.SSEKMSKeyId = w.sse, w.kmsKey
	in.StorageClass, in.Tagging = w.archival(opts)
}
