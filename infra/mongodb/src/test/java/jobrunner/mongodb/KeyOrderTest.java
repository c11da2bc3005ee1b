package jobrunner.mongodb;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Instant;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

import org.junit.jupiter.api.Test;

import de.bwaldvogel.mongo.backend.ValueComparator;
import de.bwaldvogel.mongo.bson.ObjectId;

/** The index's key order against the library's, for the types it compares directly. */
class KeyOrderTest {

    private static final Comparator<Object> LIBRARY = ValueComparator.ascWithoutListHandling();

    private static void agreeOnEveryPair(List<Object> values) {
        for (Object a : values) {
            for (Object b : values) {
                assertEquals(Integer.signum(LIBRARY.compare(a, b)), Integer.signum(KeyOrder.compareValues(a, b)),
                    () -> a + " against " + b);
            }
        }
    }

    @Test
    void strings_sort_as_the_library_sorts_them() {
        agreeOnEveryPair(Arrays.asList("", "a", "B", "b", "ab", "queued", "running", "é", "z\u00ff",
            "\uffff", "\ud83d\ude00", "tenant-1", "tenant-10", "tenant-2"));
    }

    @Test
    void object_ids_and_dates_sort_as_the_library_sorts_them() {
        agreeOnEveryPair(Arrays.asList(new ObjectId("000000000000000000000000"), new ObjectId("64b000000000000000000001"),
            new ObjectId("64b000000000000000000002"), new ObjectId("ffffffffffffffffffffffff")));
        agreeOnEveryPair(Arrays.asList(Instant.EPOCH, Instant.parse("2026-12-01T12:00:00Z"),
            Instant.parse("2026-12-01T12:00:00.001Z"), Instant.parse("1969-12-31T23:59:59Z")));
    }

    @Test
    void types_still_sort_by_their_bracket_first() {
        // MongoDB's order: numbers < strings < ObjectIds < dates
        assertTrue(KeyOrder.compareValues(5, "a") < 0);
        assertTrue(KeyOrder.compareValues("zzz", new ObjectId("000000000000000000000000")) < 0);
        assertTrue(KeyOrder.compareValues(new ObjectId("ffffffffffffffffffffffff"), Instant.EPOCH) < 0);
        assertTrue(KeyOrder.compareValues(KeyOrder.LOW, "") < 0 && KeyOrder.compareValues("", KeyOrder.HIGH) < 0);
    }
}
