package export

import (
	"fmt"
	"sort"
	"strings"
)

// BagIt tag files (RFC 8493). The payload manifests use SHA-256, the
// algorithm the RFC recommends.
const (
	bagitTxt       = "bagit.txt"
	bagInfoTxt     = "bag-info.txt"
	manifestTxt    = "manifest-sha256.txt"
	tagManifestTxt = "tagmanifest-sha256.txt"
	viewerHTML     = "index.html"
)

const bagitDeclaration = "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n"

// encodeBagPath percent-encodes the characters RFC 8493 section 2.1.3 says
// a manifest path must not carry raw: CR, LF and the percent sign itself.
func encodeBagPath(p string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A").Replace(p)
}

// decodeBagPath reverses encodeBagPath.
func decodeBagPath(p string) string {
	return strings.NewReplacer("%0D", "\r", "%0A", "\n", "%0d", "\r", "%0a", "\n", "%25", "%").Replace(p)
}

// checksumFile renders a manifest-<alg>.txt body: "<hex>  <path>" lines in
// path order.
func checksumFile(files []FileRecord) []byte {
	sorted := append([]FileRecord(nil), files...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Path < sorted[j].Path })
	var b strings.Builder
	for _, f := range sorted {
		fmt.Fprintf(&b, "%s  %s\n", f.SHA256, encodeBagPath(f.Path))
	}
	return []byte(b.String())
}

// payloadOxum is "<octets>.<files>" of the payload, per RFC 8493 2.2.2.
func payloadOxum(payload []FileRecord) string {
	var n int64
	for _, f := range payload {
		n += f.Size
	}
	return fmt.Sprintf("%d.%d", n, len(payload))
}

func bagInfo(uid, toolVersion, date, oxum string) []byte {
	return fmt.Appendf(nil, "Source-Organization: Periscope\nExternal-Identifier: periscope-user-%s\n"+
		"Bagging-Date: %s\nBag-Software-Agent: periscope-sunset %s\nPayload-Oxum: %s\n",
		uid, date, toolVersion, oxum)
}

// parseChecksumFile reads a manifest-sha256.txt body into path -> hex.
func parseChecksumFile(body []byte) (map[string]string, error) {
	out := map[string]string{}
	for i, line := range strings.Split(strings.TrimRight(string(body), "\n"), "\n") {
		if line == "" {
			continue
		}
		sum, p, ok := strings.Cut(line, " ")
		p = strings.TrimLeft(p, " *")
		if !ok || len(sum) != 64 || p == "" {
			return nil, fmt.Errorf("line %d: not \"<sha256>  <path>\"", i+1)
		}
		out[decodeBagPath(p)] = strings.ToLower(sum)
	}
	return out, nil
}
