package jobrunner.mongodb;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

import org.junit.jupiter.api.Test;

import de.bwaldvogel.mongo.backend.IndexKey;
import de.bwaldvogel.mongo.bson.Document;
import de.bwaldvogel.mongo.exception.CannotIndexParallelArraysError;

/** The secondary index on its own: which queries it answers and with which positions. */
class OrderedSecondaryIndexTest {

    private static final Instant NOW = Instant.parse("2026-12-01T12:00:00Z");

    private static OrderedSecondaryIndex<Integer> index(boolean sparse, String... keys) {
        List<IndexKey> indexKeys = Arrays.stream(keys).map(key -> new IndexKey(key, true)).collect(Collectors.toList());
        return new OrderedSecondaryIndex<>("test", indexKeys, sparse, Comparator.naturalOrder());
    }

    private static OrderedSecondaryIndex<Integer> index(String... keys) {
        return index(false, keys);
    }

    private static void add(OrderedSecondaryIndex<Integer> index, int position, Document document) {
        document.putIfAbsent("_id", "doc-" + position);
        index.checkAdd(document, null);
        index.add(document, position, null);
    }

    private static List<Integer> positions(OrderedSecondaryIndex<Integer> index, Document query) {
        assertTrue(index.canHandle(query), () -> "the index should answer " + query);
        List<Integer> positions = new ArrayList<>();
        index.getPositions(query).forEach(positions::add);
        return positions;
    }

    private static Document doc(Object... keysAndValues) {
        Document document = new Document();
        for (int i = 0; i < keysAndValues.length; i += 2) {
            document.put((String) keysAndValues[i], keysAndValues[i + 1]);
        }
        return document;
    }

    @Test
    void equality_returns_the_documents_with_that_value_whatever_its_numeric_type() {
        OrderedSecondaryIndex<Integer> index = index("status");
        for (int i = 0; i < 10; i++) {
            add(index, i, doc("status", i % 2 == 0 ? "queued" : "running"));
        }
        add(index, 10, doc("status", 1));
        add(index, 11, doc("status", 1.0));
        add(index, 12, doc("status", 1L));

        assertEquals(List.of(0, 2, 4, 6, 8), positions(index, doc("status", "queued")));
        assertEquals(List.of(1, 3, 5, 7, 9), positions(index, doc("status", doc("$eq", "running"))));
        assertEquals(List.of(10, 11, 12), positions(index, doc("status", 1)));
        assertEquals(List.of(), positions(index, doc("status", "gone")));
    }

    @Test
    void a_compound_index_answers_a_pinned_prefix_and_ignores_other_fields() {
        OrderedSecondaryIndex<Integer> index = index("tenant_id", "status");
        add(index, 0, doc("tenant_id", "a", "status", "queued"));
        add(index, 1, doc("tenant_id", "a", "status", "done"));
        add(index, 2, doc("tenant_id", "b", "status", "queued"));
        add(index, 3, doc("tenant_id", "a"));

        assertEquals(List.of(0, 1, 3), positions(index, doc("tenant_id", "a")));
        assertEquals(List.of(0), positions(index, doc("tenant_id", "a", "status", "queued")));
        assertEquals(List.of(0, 1, 3), positions(index, doc("tenant_id", "a", "priority", 3)));
        assertEquals(List.of(0, 1, 3), positions(index, doc("tenant_id", "a", "status", doc("$ne", "done"))));
        assertFalse(index.canHandle(doc("status", "queued")), "not a prefix");
        assertFalse(index.canHandle(doc("tenant_id", null)), "null also matches a missing field");
        assertFalse(index.canHandle(doc("tenant_id", List.of("a"))), "an array matches arrays");
        assertFalse(index.canHandle(doc("tenant_id", doc("$exists", true))));
        assertFalse(index.canHandle(doc("tenant_id", doc("x", 1))), "embedded documents are left to a scan");
    }

    @Test
    void a_range_reads_only_its_type_bracket_not_the_documents_without_the_field() {
        // Given 2,000 finished jobs without a lease, some with other kinds of values, 3 due and 2 not
        OrderedSecondaryIndex<Integer> index = index("lease_expires_at");
        int position = 0;
        for (; position < 2000; position++) {
            add(index, position, doc("status", "succeeded"));
        }
        add(index, position++, doc("lease_expires_at", null));
        add(index, position++, doc("lease_expires_at", "2020-01-01"));
        add(index, position++, doc("lease_expires_at", 5));
        List<Integer> due = new ArrayList<>();
        for (int i = 1; i <= 3; i++) {
            due.add(position);
            add(index, position++, doc("lease_expires_at", NOW.minusSeconds(i)));
        }
        List<Integer> later = new ArrayList<>();
        for (int i = 1; i <= 2; i++) {
            later.add(position);
            add(index, position++, doc("lease_expires_at", NOW.plusSeconds(i)));
        }

        // Then each range returns its dates and nothing else
        assertEquals(due, positions(index, doc("lease_expires_at", doc("$lt", NOW))));
        assertEquals(due, positions(index, doc("lease_expires_at", doc("$lte", NOW.minusSeconds(1)))));
        assertEquals(later, positions(index, doc("lease_expires_at", doc("$gt", NOW))));
        assertEquals(List.of(due.get(0), later.get(0)),
            positions(index, doc("lease_expires_at", doc("$gte", NOW.minusSeconds(1), "$lt", NOW.plusSeconds(2)))));
        assertEquals(List.of(), positions(index, doc("lease_expires_at", doc("$gt", NOW.plusSeconds(9), "$lt", NOW))));
        assertEquals(List.of(position - 7), positions(index, doc("lease_expires_at", doc("$gte", "2000"))));
        assertFalse(index.canHandle(doc("lease_expires_at", doc("$lt", null))));
    }

    @Test
    void a_range_after_a_pinned_prefix() {
        OrderedSecondaryIndex<Integer> index = index("tenant_id", "created_at", "name");
        add(index, 0, doc("tenant_id", "a", "created_at", NOW.minusSeconds(10), "name", "x"));
        add(index, 1, doc("tenant_id", "a", "created_at", NOW, "name", "y"));
        add(index, 2, doc("tenant_id", "b", "created_at", NOW.minusSeconds(10), "name", "z"));
        add(index, 3, doc("tenant_id", "a", "created_at", NOW.plusSeconds(10)));

        assertEquals(List.of(0, 1), positions(index, doc("tenant_id", "a", "created_at", doc("$lte", NOW))));
        assertEquals(List.of(1, 3), positions(index, doc("tenant_id", "a", "created_at", doc("$gte", NOW))));
        assertEquals(List.of(0), positions(index, doc("tenant_id", "a", "created_at", doc("$lt", NOW))));
        assertEquals(List.of(3), positions(index, doc("tenant_id", "a", "created_at", doc("$gt", NOW))));
    }

    @Test
    void in_reads_each_listed_value() {
        OrderedSecondaryIndex<Integer> index = index("tenant_id", "status");
        String[] statuses = {"queued", "running", "succeeded", "failed"};
        for (int i = 0; i < 8; i++) {
            add(index, i, doc("tenant_id", i < 4 ? "a" : "b", "status", statuses[i % 4]));
        }

        // the fields after an $in are left to the filter
        assertEquals(IntStream.range(0, 8).boxed().collect(Collectors.toList()),
            positions(index, doc("tenant_id", doc("$in", List.of("a", "b")), "status", "queued")));
        assertEquals(List.of(0, 1), positions(index, doc("tenant_id", "a", "status", doc("$in", List.of("running", "queued")))));
        assertEquals(List.of(), positions(index, doc("tenant_id", "a", "status", doc("$in", List.of()))));
        assertFalse(index.canHandle(doc("tenant_id", doc("$in", Arrays.asList("a", null)))), "null matches missing fields");
    }

    @Test
    void an_array_field_is_found_by_each_element_once() {
        OrderedSecondaryIndex<Integer> index = index("labels");
        add(index, 0, doc("labels", List.of("gpu", "linux")));
        add(index, 1, doc("labels", List.of("linux")));
        add(index, 2, doc("labels", List.of()));
        add(index, 3, doc("labels", List.of(1, 20)));

        assertEquals(List.of(0), positions(index, doc("labels", "gpu")));
        assertEquals(List.of(0, 1), positions(index, doc("labels", "linux")));
        assertEquals(List.of(0, 1), positions(index, doc("labels", doc("$in", List.of("gpu", "linux")))));
        // one element above 5 and another below 10: MongoDB matches it, so the index returns it
        assertEquals(List.of(3), positions(index, doc("labels", doc("$gt", 5, "$lt", 10))));
        // the document with an empty array has no key, and is still removed cleanly
        assertEquals(2, index.remove(doc("_id", "doc-2", "labels", List.of())));
    }

    @Test
    void a_path_into_an_array_of_documents() {
        OrderedSecondaryIndex<Integer> index = index("attempts.status");
        add(index, 0, doc("attempts", List.of(doc("status", "failed"), doc("status", "running"))));
        add(index, 1, doc("attempts", List.of(doc("status", "succeeded"))));

        assertEquals(List.of(0), positions(index, doc("attempts.status", "running")));
        assertFalse(index("attempts.1.status").canHandle(doc("attempts.1.status", "running")),
            "the library's key extraction does not follow array positions");
    }

    @Test
    void compound_keys_over_two_arrays_are_refused_like_mongodb() {
        OrderedSecondaryIndex<Integer> index = index("a", "b");
        Document parallel = doc("_id", 1, "a", List.of(1, 2), "b", List.of(3, 4));
        assertThrows(CannotIndexParallelArraysError.class, () -> index.checkAdd(parallel, null));
    }

    @Test
    void an_update_moves_the_document_to_its_new_keys() {
        OrderedSecondaryIndex<Integer> index = index("status");
        Document queued = doc("_id", "j1", "status", "queued", "attempt", 1);
        add(index, 0, queued);
        add(index, 1, doc("status", "queued"));

        // When its status changes
        Document running = doc("_id", "j1", "status", "running", "attempt", 1);
        index.checkUpdate(queued, running, null);
        index.updateInPlace(queued, running, 0, null);
        // and then something else but the status
        Document again = doc("_id", "j1", "status", "running", "attempt", 2);
        index.updateInPlace(running, again, 0, null);

        assertEquals(List.of(1), positions(index, doc("status", "queued")));
        assertEquals(List.of(0), positions(index, doc("status", "running")));
        assertEquals(0, index.getPosition(again));
        assertEquals(2, index.getCount());
    }

    @Test
    void a_deleted_document_is_gone_from_every_key() {
        OrderedSecondaryIndex<Integer> index = index("labels");
        Document document = doc("_id", "j1", "labels", List.of("a", "b"));
        add(index, 0, document);
        add(index, 1, doc("labels", List.of("a")));

        assertEquals(0, index.remove(document));

        assertEquals(List.of(1), positions(index, doc("labels", "a")));
        assertEquals(List.of(), positions(index, doc("labels", "b")));
        assertNull(index.remove(document));
    }

    @Test
    void a_sparse_index_leaves_out_documents_without_its_fields_until_they_get_one() {
        OrderedSecondaryIndex<Integer> index = index(true, "lease_expires_at");
        Document finished = doc("_id", "j1", "status", "succeeded");
        add(index, 0, finished);
        add(index, 1, doc("lease_expires_at", NOW.minusSeconds(1)));
        assertEquals(1, index.getCount());
        assertNull(index.remove(doc("_id", "j2")), "a sparse index has nothing to remove for it");

        Document leased = doc("_id", "j1", "status", "running", "lease_expires_at", NOW.minusSeconds(5));
        index.updateInPlace(finished, leased, 0, null);

        assertEquals(List.of(0, 1), positions(index, doc("lease_expires_at", doc("$lt", NOW))));
    }

    @Test
    void numbers_the_library_compares_loosely_read_the_whole_numeric_bracket() {
        OrderedSecondaryIndex<Integer> index = index("n");
        add(index, 0, doc("n", 3_000_000_000.5));
        add(index, 1, doc("n", 3_000_000_000L));
        add(index, 2, doc("n", 7));
        add(index, 3, doc("n", Double.NaN));
        add(index, 4, doc("n", "text"));

        // ValueComparator says 3e9 + 0.5 == 3e9 (long parts) and NaN == 0 against a long
        assertEquals(List.of(0, 1, 2, 3), positions(index, doc("n", doc("$lte", 3_000_000_000L))));
        assertEquals(List.of(0, 1, 2, 3), positions(index, doc("n", doc("$gt", Double.NaN))));
        assertEquals(List.of(2), positions(index, doc("n", doc("$lt", 100))));
    }

    @Test
    void keys_read_without_the_library_are_the_librarys_keys() {
        OrderedSecondaryIndex<Integer> index = index("tenant_id", "lease.expires_at", "n");
        List<Document> documents = List.of(
            doc("tenant_id", "t1", "lease", doc("expires_at", NOW), "n", 1),
            doc("tenant_id", "t1", "n", 1L),  // no lease: missing, as null
            doc("tenant_id", null, "lease", null, "n", -0.0),
            doc("tenant_id", "t1", "lease", "not a document", "n", 2.5),
            doc("tenant_id", "t1", "lease", doc("expires_at", NOW), "n", Long.MAX_VALUE - 1),
            doc("tenant_id", doc("nested", 1), "n", 3),  // a subdocument: the library's own path
            doc("tenant_id", "t1", "lease", List.of(doc("expires_at", NOW))),  // an array on the way
            doc("tenant_id", List.of("a", "b")));  // a multikey document

        for (Document document : documents) {
            assertEquals(index.getKeyValues(document), index.keysOf(document), document::toString);
        }
    }

    @Test
    void a_sparse_index_reads_a_document_without_any_of_its_fields_as_left_out() {
        OrderedSecondaryIndex<Integer> index = index(true, "lease.worker", "timeout_at");
        assertNull(index.keysOf(doc("status", "queued", "lease", null)));
        assertNull(index.keysOf(doc("status", "queued", "lease", doc("expires_at", NOW))));
        assertEquals(index.getKeyValues(doc("timeout_at", NOW)), index.keysOf(doc("timeout_at", NOW)));
    }

    @Test
    void the_keys_of_a_checked_document_go_to_that_document_only() {
        OrderedSecondaryIndex<Integer> index = index("status");
        Document checked = doc("_id", "j1", "status", "queued");
        Document other = doc("_id", "j2", "status", "running");
        index.checkAdd(checked, null);
        index.add(other, 0, null);  // not the one checked: its own keys
        index.add(checked, 1, null);  // its check was taken by nobody else, but read again

        assertEquals(List.of(0), positions(index, doc("status", "running")));
        assertEquals(List.of(1), positions(index, doc("status", "queued")));
    }
}
