package jobrunner.mongodb;

import java.math.BigDecimal;
import java.time.Instant;
import java.util.Collection;
import java.util.Comparator;
import java.util.UUID;

import de.bwaldvogel.mongo.backend.KeyValue;
import de.bwaldvogel.mongo.backend.Missing;
import de.bwaldvogel.mongo.backend.ValueComparator;
import de.bwaldvogel.mongo.bson.BinData;
import de.bwaldvogel.mongo.bson.BsonRegularExpression;
import de.bwaldvogel.mongo.bson.BsonTimestamp;
import de.bwaldvogel.mongo.bson.Document;
import de.bwaldvogel.mongo.bson.LegacyUUID;
import de.bwaldvogel.mongo.bson.MaxKey;
import de.bwaldvogel.mongo.bson.MinKey;
import de.bwaldvogel.mongo.bson.ObjectId;

/**
 * The order of the secondary index's keys: field by field, BSON type brackets in MongoDB's
 * order (the library's {@link ValueComparator}), then the value.
 *
 * <p>Not the library's comparator as is: a {@code TreeMap} needs a total order, and
 * {@code ValueComparator} compares a large integral number with a fractional one by their
 * {@code long} parts (so 3e9 == 3e9 + 0.5), compares lists by their smallest element, and throws
 * on types it does not know. Here numbers compare exactly, lists are a bracket of their own and
 * unknown types sort by class and text. {@link #LOW} and {@link #HIGH} are probes below and above
 * every value, for the ends of a range.
 */
final class KeyOrder implements Comparator<KeyValue> {

    static final KeyOrder INSTANCE = new KeyOrder();

    /** Sorts below every value: the start of a range's padding. */
    static final Object LOW = new Probe("LOW");
    /** Sorts above every value. */
    static final Object HIGH = new Probe("HIGH");

    private static final Comparator<Object> SAME_TYPE = ValueComparator.ascWithoutListHandling();

    private KeyOrder() {
    }

    @Override
    public int compare(KeyValue a, KeyValue b) {
        int size = Math.min(a.size(), b.size());
        for (int i = 0; i < size; i++) {
            int cmp = compareValues(a.get(i), b.get(i));
            if (cmp != 0) {
                return cmp;
            }
        }
        return Integer.compare(a.size(), b.size());
    }

    static int compareValues(Object a, Object b) {
        if (a == b) {
            return 0;
        }
        if (a == LOW || b == HIGH) {
            return -1;
        }
        if (a == HIGH || b == LOW) {
            return 1;
        }
        // The keys of jobrunner's indexes are mostly strings, ObjectIds and dates: compared
        // here as the library's comparator would (it ends in these compareTo), without its
        // type dispatch and value normalisation, a sixth of the database's CPU under load.
        if (a instanceof String && b instanceof String) {
            return ((String) a).compareTo((String) b);
        }
        if (a instanceof ObjectId && b instanceof ObjectId) {
            return ((ObjectId) a).compareTo((ObjectId) b);
        }
        if (a instanceof Instant && b instanceof Instant) {
            return ((Instant) a).compareTo((Instant) b);
        }
        int typeA = typeOrder(a);
        int typeB = typeOrder(b);
        if (typeA != typeB) {
            return Integer.compare(typeA, typeB);
        }
        switch (typeA) {
            case NULL:
            case MIN_KEY:
            case MAX_KEY:
                return 0;
            case NUMBER:
                return compareNumbers((Number) a, (Number) b);
            case UNKNOWN:
                int byClass = a.getClass().getName().compareTo(b.getClass().getName());
                return byClass != 0 ? byClass : String.valueOf(a).compareTo(String.valueOf(b));
            default:
                try {
                    return SAME_TYPE.compare(a, b);
                } catch (RuntimeException e) {
                    // a value inside a document or list the library cannot compare
                    return String.valueOf(a).compareTo(String.valueOf(b));
                }
        }
    }

    /** The type bracket of a value, in MongoDB's comparison order. */
    static int typeOrder(Object value) {
        if (value == null || value instanceof Missing) {
            return NULL;
        } else if (value instanceof MinKey) {
            return MIN_KEY;
        } else if (value instanceof Number) {
            return NUMBER;
        } else if (value instanceof String) {
            return 3;
        } else if (value instanceof Document) {
            return 4;
        } else if (value instanceof Collection) {
            return 5;
        } else if (value instanceof BinData) {
            return 6;
        } else if (value instanceof LegacyUUID) {
            return 7;
        } else if (value instanceof UUID) {
            return 8;
        } else if (value instanceof ObjectId) {
            return 9;
        } else if (value instanceof Boolean) {
            return 10;
        } else if (value instanceof Instant) {
            return 11;
        } else if (value instanceof BsonTimestamp) {
            return 12;
        } else if (value instanceof BsonRegularExpression) {
            return 13;
        } else if (value instanceof MaxKey) {
            return MAX_KEY;
        }
        return UNKNOWN;
    }

    static final int MIN_KEY = 0;
    static final int NULL = 1;
    static final int NUMBER = 2;
    static final int UNKNOWN = 14;
    static final int MAX_KEY = 15;

    /** Exact numeric order; NaN above +Infinity (as {@code Double.compare}). */
    static int compareNumbers(Number a, Number b) {
        double x = a.doubleValue();
        double y = b.doubleValue();
        if ((a instanceof Double && b instanceof Double) || !Double.isFinite(x) || !Double.isFinite(y)) {
            return Double.compare(x, y);
        }
        return exact(a).compareTo(exact(b));
    }

    private static BigDecimal exact(Number number) {
        if (number instanceof Long || number instanceof Integer || number instanceof Short || number instanceof Byte) {
            return BigDecimal.valueOf(number.longValue());
        }
        return new BigDecimal(number.doubleValue());
    }

    private static final class Probe {
        private final String name;

        Probe(String name) {
            this.name = name;
        }

        @Override
        public String toString() {
            return name;
        }
    }
}
