package io.o3lsm;

/**
 * A column family to open (or create) with {@link DB#open(java.nio.file.Path, Options, java.util.List)}:
 * its name and its options.
 *
 * @param name    1 to 200 bytes of UTF-8, no control characters
 * @param options the family's options (copied when the DB opens)
 */
public record ColumnFamilyDescriptor(String name, ColumnFamilyOptions options) {
    public ColumnFamilyDescriptor {
        ColumnFamilyOptions.checkName(name);
        if (options == null) {
            throw new IllegalArgumentException("column family \"" + name + "\": options must not be null");
        }
    }

    /** A family with {@link ColumnFamilyOptions#defaults()}. */
    public ColumnFamilyDescriptor(String name) {
        this(name, ColumnFamilyOptions.defaults());
    }
}
