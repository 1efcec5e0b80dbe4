// ZipCheck opens a zip with Java's two readers and reads every entry in
// full, comparing each entry's CRC-32 and size with what it read:
//   - java.util.zip.ZipFile, from the central directory;
//   - java.util.zip.ZipInputStream, streaming from the first byte, as a
//     pipeline reading a download would (it refuses a STORED entry with a
//     data descriptor, and checks CRC-32 and sizes itself).
// Both must see the same entries. Run as: java ZipCheck.java FILE...
import java.io.BufferedInputStream;
import java.io.FileInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.Enumeration;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import java.util.zip.ZipInputStream;

public class ZipCheck {
    static final byte[] buf = new byte[1 << 20];

    // drain reads in to its end and returns the CRC-32 and size of what it read.
    static long[] drain(InputStream in) throws IOException {
        CRC32 crc = new CRC32();
        long n = 0;
        for (int r; (r = in.read(buf)) > 0; ) {
            crc.update(buf, 0, r);
            n += r;
        }
        return new long[] {crc.getValue(), n};
    }

    static void check(String reader, ZipEntry e, long[] got) throws IOException {
        if (got[0] != e.getCrc() || got[1] != e.getSize()) {
            throw new IOException(reader + ": " + e.getName() + ": read crc " + Long.toHexString(got[0])
                + " size " + got[1] + ", entry says crc " + Long.toHexString(e.getCrc()) + " size " + e.getSize());
        }
    }

    public static void main(String[] args) throws IOException {
        for (String name : args) {
            checkFile(name);
        }
    }

    static void checkFile(String name) throws IOException {
        long central = 0;
        try (ZipFile zf = new ZipFile(name)) {
            for (Enumeration<? extends ZipEntry> en = zf.entries(); en.hasMoreElements(); ) {
                ZipEntry e = en.nextElement();
                try (InputStream in = zf.getInputStream(e)) {
                    check("ZipFile", e, drain(in));
                }
                central++;
            }
        }
        long streamed = 0;
        try (ZipInputStream zin = new ZipInputStream(new BufferedInputStream(new FileInputStream(name), 1 << 20))) {
            for (ZipEntry e; (e = zin.getNextEntry()) != null; ) {
                long[] got = drain(zin);
                check("ZipInputStream", e, got);
                streamed++;
            }
        }
        if (streamed != central) {
            throw new IOException(name + ": ZipInputStream saw " + streamed + " entries, ZipFile " + central);
        }
        System.out.println(name + ": ZipFile and ZipInputStream: " + central + " entries ok");
    }
}
