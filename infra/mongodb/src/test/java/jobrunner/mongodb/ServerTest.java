package jobrunner.mongodb;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Date;
import java.util.List;
import java.util.function.Consumer;

import org.bson.conversions.Bson;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import com.mongodb.MongoWriteException;
import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import com.mongodb.client.MongoCollection;
import com.mongodb.client.model.Accumulators;
import com.mongodb.client.model.Aggregates;
import com.mongodb.client.model.Filters;
import com.mongodb.client.model.FindOneAndUpdateOptions;
import com.mongodb.client.model.IndexOptions;
import com.mongodb.client.model.Indexes;
import com.mongodb.client.model.ReturnDocument;
import com.mongodb.client.model.Sorts;
import com.mongodb.client.model.Updates;

import de.bwaldvogel.mongo.MongoBackend;
import de.bwaldvogel.mongo.MongoServer;
import de.bwaldvogel.mongo.backend.Index;
import de.bwaldvogel.mongo.bson.Document;

/**
 * Both backends through the wire, with the stock server beside ours: the same operations give
 * the same results, and our indexes answer the queries they should.
 */
class ServerTest {

    private static final Instant NOW = Instant.parse("2026-12-01T12:00:00Z");
    private static final String[] STATUSES = {"queued", "running", "succeeded", "failed"};

    @TempDir
    Path dir;

    /** One server with a client; closing it closes the backend (and an H2 file). */
    private final class Server implements AutoCloseable {
        final MongoBackend backend;
        final MongoServer server;
        final MongoClient client;

        Server(String backendName, boolean stock, String file) throws Exception {
            Launcher.Options options = new Launcher.Options();
            options.backend = backendName;
            options.stockIndexes = stock;
            options.file = dir.resolve(file).toString();
            backend = Launcher.open(options);
            backend.version(Launcher.MONGODB_4_4);
            server = new MongoServer(backend);
            client = MongoClients.create(server.bindAndGetConnectionString());
        }

        MongoCollection<org.bson.Document> jobs() {
            return client.getDatabase("db").getCollection("jobs");
        }

        Index<?> index(String name) {
            return backend.resolveDatabase("db").resolveCollection("jobs", true).getIndexes().stream()
                .filter(index -> index.getName().equals(name)).findFirst().orElseThrow();
        }

        @Override
        public void close() {
            client.close();
            server.shutdownNow();
        }
    }

    private static List<Object> positions(Index<?> index, Document query) {
        assertTrue(index.canHandle(query), () -> index + " should answer " + query);
        List<Object> positions = new ArrayList<>();
        index.getPositions(query).forEach(positions::add);
        return positions;
    }

    /** 3,000 job-like documents: 5 tenants, statuses, labels, 3 with a lease, mixed number types. */
    private static List<org.bson.Document> jobs() {
        List<org.bson.Document> jobs = new ArrayList<>();
        for (int i = 0; i < 3000; i++) {
            org.bson.Document job = new org.bson.Document("_id", String.format("job-%05d", (i * 7919) % 3000))
                .append("tenant_id", "t" + i % 5)
                .append("status", STATUSES[i % 4])
                .append("attempt", 1)
                .append("version", 0)
                .append("created_at", Date.from(NOW.minusSeconds(3000 - i)))
                .append("labels", i % 3 == 0 ? List.of("gpu", "linux") : List.of("linux"));
            if (i % 10 == 0) {
                job.append("priority", i % 20 == 0 ? 5 : 5.0);
            }
            if (i % 1000 == 7) {
                job.append("lease_expires_at", Date.from(NOW.minusSeconds(i)));
            }
            jobs.add(job);
        }
        return jobs;
    }

    private static void createIndexes(MongoCollection<org.bson.Document> jobs) {
        jobs.createIndex(Indexes.ascending("tenant_id", "status"), new IndexOptions().name("tenant_status"));
        jobs.createIndex(Indexes.compoundIndex(Indexes.ascending("tenant_id"), Indexes.descending("created_at")),
            new IndexOptions().name("tenant_created"));
        jobs.createIndex(Indexes.ascending("lease_expires_at"), new IndexOptions().name("lease"));
        jobs.createIndex(Indexes.ascending("labels"), new IndexOptions().name("labels"));
    }

    private static final List<Bson> FILTERS = List.of(
        Filters.and(Filters.eq("_id", "job-00042"), Filters.eq("status", "queued")),
        Filters.and(Filters.eq("_id", "job-00042"), Filters.eq("tenant_id", "t3")),
        Filters.eq("tenant_id", "t1"),
        Filters.and(Filters.eq("tenant_id", "t1"), Filters.eq("status", "running")),
        Filters.and(Filters.eq("tenant_id", "t2"), Filters.in("status", "queued", "failed")),
        Filters.and(Filters.eq("tenant_id", "t2"), Filters.gte("created_at", Date.from(NOW.minusSeconds(100)))),
        Filters.and(Filters.eq("tenant_id", "t4"), Filters.lt("created_at", Date.from(NOW.minusSeconds(2900)))),
        Filters.lt("lease_expires_at", Date.from(NOW)),
        Filters.gt("lease_expires_at", Date.from(NOW.minusSeconds(1500))),
        Filters.eq("labels", "gpu"),
        Filters.and(Filters.in("labels", "gpu", "cuda"), Filters.eq("status", "queued")),
        Filters.and(Filters.eq("tenant_id", "t0"), Filters.eq("priority", 5)),
        Filters.and(Filters.eq("tenant_id", "t0"), Filters.exists("priority", false)),
        Filters.in("_id", "job-00001", "job-02999", "nope"),
        Filters.and(Filters.in("_id", "job-02999", "job-00042", "job-00001", "nope"), Filters.eq("status", "queued")),
        Filters.and(Filters.in("_id", "job-02999", "job-00042", "job-00001"), Filters.eq("tenant_id", "t3")));

    private static void assertSameResults(Server stock, Server ours) {
        for (Bson filter : FILTERS) {
            assertEquals(stock.jobs().find(filter).into(new ArrayList<>()), ours.jobs().find(filter).into(new ArrayList<>()),
                () -> "find " + filter);
            assertEquals(stock.jobs().countDocuments(filter), ours.jobs().countDocuments(filter), () -> "count " + filter);
            assertEquals(stock.jobs().find(filter).sort(Sorts.descending("created_at")).limit(3).into(new ArrayList<>()),
                ours.jobs().find(filter).sort(Sorts.descending("created_at")).limit(3).into(new ArrayList<>()),
                () -> "sorted page " + filter);
            List<Bson> pipeline = List.of(Aggregates.match(filter), Aggregates.group("$status", Accumulators.sum("n", 1),
                Accumulators.first("first", "$_id")));
            assertEquals(stock.jobs().aggregate(pipeline).into(new ArrayList<>()), ours.jobs().aggregate(pipeline).into(new ArrayList<>()),
                () -> "aggregate " + filter);
        }
    }

    private static void onBoth(Server stock, Server ours, Consumer<MongoCollection<org.bson.Document>> operation) {
        operation.accept(stock.jobs());
        operation.accept(ours.jobs());
    }

    @ParameterizedTest
    @ValueSource(strings = {"memory", "h2"})
    void indexed_queries_give_what_a_scan_gives_before_and_after_writes(String backend) throws Exception {
        try (Server stock = new Server(backend, true, "stock.mv"); Server ours = new Server(backend, false, "ours.mv")) {
            // Given the same jobs and indexes on the stock server and ours
            onBoth(stock, ours, jobs -> {
                jobs.insertMany(jobs());
                createIndexes(jobs);
            });
            assertSameResults(stock, ours);

            // When they change: keys move, documents go, new ones come
            onBoth(stock, ours, jobs -> {
                jobs.updateMany(Filters.and(Filters.eq("tenant_id", "t1"), Filters.eq("status", "queued")),
                    Updates.combine(Updates.set("status", "running"), Updates.set("lease_expires_at", Date.from(NOW.minusSeconds(1)))));
                jobs.updateMany(Filters.eq("labels", "gpu"), Updates.pull("labels", "gpu"));
                jobs.updateOne(Filters.eq("_id", "job-00042"), Updates.set("labels", List.of("gpu", "cuda")));
                jobs.updateMany(Filters.eq("tenant_id", "t3"), Updates.inc("version", 1));
                jobs.deleteMany(Filters.and(Filters.eq("tenant_id", "t2"), Filters.eq("status", "failed")));
                jobs.findOneAndUpdate(Filters.and(Filters.eq("_id", "job-00099"), Filters.eq("version", 0)),
                    Updates.unset("lease_expires_at"));
                jobs.insertOne(new org.bson.Document("_id", "job-new").append("tenant_id", "t1").append("status", "queued")
                    .append("labels", List.of("gpu")).append("lease_expires_at", Date.from(NOW.minusSeconds(3))));
            });

            // Then every query still gives the same documents, in the same order
            assertSameResults(stock, ours);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"memory", "h2"})
    void the_id_index_answers_a_query_that_pins_id_among_other_fields(String backend) throws Exception {
        try (Server stock = new Server(backend, true, "stock.mv"); Server ours = new Server(backend, false, "ours.mv")) {
            onBoth(stock, ours, jobs -> jobs.insertMany(jobs()));
            Document query = new Document("_id", "job-00042").append("status", "queued").append("attempt", 2);

            assertFalse(stock.index("_id_").canHandle(query), "the stock rule needs exactly {_id}");
            assertEquals(1, positions(ours.index("_id_"), query).size());
            assertEquals(1, positions(ours.index("_id_"), new Document("_id", "job-00042").append("tenant_id", "t3")).size());
            assertFalse(ours.index("_id_").canHandle(new Document("_id", new Document("$gt", "job-1")).append("status", "x")));
            assertFalse(ours.index("_id_").canHandle(new Document("_id", null).append("status", "x")));
            // an $in of plain values on _id beside other fields, as MongoDB's planner takes it
            Document in = new Document("_id", new Document("$in", List.of("job-00042", "job-00043", "nope")))
                .append("attempt", 1);
            assertFalse(stock.index("_id_").canHandle(in), "the stock rule takes an $in only alone");
            assertEquals(2, positions(ours.index("_id_"), in).size());
            assertFalse(ours.index("_id_").canHandle(new Document("_id", new Document("$in", Arrays.asList("job-00042", null)))
                .append("attempt", 1)), "null in an $in also matches a missing field: a scan");
            assertFalse(ours.index("_id_").canHandle(new Document("_id", new Document("$in", List.of("job-00042"))
                .append("$ne", "job-00043")).append("attempt", 1)));

            // and a compare-and-set on it behaves as before: one winner
            org.bson.Document won = ours.jobs().findOneAndUpdate(
                Filters.and(Filters.eq("_id", "job-00042"), Filters.eq("version", 0)), Updates.inc("version", 1),
                new FindOneAndUpdateOptions().returnDocument(ReturnDocument.AFTER));
            org.bson.Document lost = ours.jobs().findOneAndUpdate(
                Filters.and(Filters.eq("_id", "job-00042"), Filters.eq("version", 0)), Updates.inc("version", 1));
            assertEquals(1, won.getInteger("version"));
            assertEquals(null, lost);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"memory", "h2"})
    void a_compound_unique_index_answers_when_all_its_fields_are_pinned_and_stays_unique(String backend) throws Exception {
        try (Server ours = new Server(backend, false, "ours.mv")) {
            MongoCollection<org.bson.Document> jobs = ours.jobs();
            jobs.createIndex(Indexes.ascending("tenant_id", "name"), new IndexOptions().unique(true).name("tenant_name"));
            jobs.insertOne(new org.bson.Document("tenant_id", "a").append("name", "nightly").append("status", "queued"));
            jobs.insertOne(new org.bson.Document("tenant_id", "b").append("name", "nightly").append("status", "queued"));

            MongoWriteException duplicate = assertThrows(MongoWriteException.class,
                () -> jobs.insertOne(new org.bson.Document("tenant_id", "a").append("name", "nightly")));
            assertEquals(11000, duplicate.getCode());

            Index<?> index = ours.index("tenant_name");
            assertEquals(1, positions(index, new Document("tenant_id", "a").append("name", "nightly").append("status", "queued")).size());
            assertFalse(index.canHandle(new Document("tenant_id", "a").append("status", "queued")), "name is not pinned");
            assertEquals(1, jobs.countDocuments(Filters.and(Filters.eq("tenant_id", "a"), Filters.eq("name", "nightly"),
                Filters.eq("status", "queued"))));
            assertEquals(0, jobs.countDocuments(Filters.and(Filters.eq("tenant_id", "a"), Filters.eq("name", "nightly"),
                Filters.eq("status", "running"))));
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"memory", "h2"})
    void an_index_created_on_a_full_collection_holds_its_documents(String backend) throws Exception {
        try (Server ours = new Server(backend, false, "ours.mv")) {
            ours.jobs().insertMany(jobs());
            createIndexes(ours.jobs());

            assertEquals(3, positions(ours.index("lease"), new Document("lease_expires_at", new Document("$lt", NOW))).size());
            assertEquals(150, positions(ours.index("tenant_status"), new Document("tenant_id", "t1").append("status", "running")).size());
            assertEquals(600, positions(ours.index("tenant_created"),
                new Document("tenant_id", "t1").append("created_at", new Document("$lte", NOW))).size());
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"memory", "h2"})
    void of_several_secondary_indexes_the_one_pinning_most_fields_answers(String backend) throws Exception {
        try (Server ours = new Server(backend, false, "ours.mv")) {
            ours.jobs().insertMany(jobs());
            createIndexes(ours.jobs());
            Document tenantAndStatus = new Document("tenant_id", "t1").append("status", "running");
            Document tenantOnly = new Document("tenant_id", "t1");
            Document tenantSince = new Document("tenant_id", "t1").append("created_at", new Document("$gte", NOW));

            // (tenant_id, status) was created first, (tenant_id, created_at) second
            assertTrue(ours.index("tenant_status").canHandle(tenantAndStatus));
            assertFalse(ours.index("tenant_created").canHandle(tenantAndStatus), "pins one field where the other pins two");
            assertTrue(ours.index("tenant_status").canHandle(tenantOnly), "as good, and created first");
            assertFalse(ours.index("tenant_created").canHandle(tenantOnly));
            assertTrue(ours.index("tenant_created").canHandle(tenantSince), "a range on its next field");
            assertFalse(ours.index("tenant_status").canHandle(tenantSince));
        }
    }

    @Test
    void an_h2_file_reopened_gets_its_secondary_indexes_back() throws Exception {
        try (Server first = new Server("h2", false, "data.mv")) {
            first.jobs().insertMany(jobs());
            createIndexes(first.jobs());
            first.jobs().deleteOne(Filters.eq("lease_expires_at", Date.from(NOW.minusSeconds(7))));
        }

        try (Server reopened = new Server("h2", false, "data.mv")) {
            assertEquals(2999, reopened.jobs().countDocuments());
            assertEquals(2, positions(reopened.index("lease"), new Document("lease_expires_at", new Document("$lt", NOW))).size());
            assertEquals(2, reopened.jobs().countDocuments(Filters.lt("lease_expires_at", Date.from(NOW))));
            assertEquals(1, positions(reopened.index("_id_"), new Document("_id", "job-00042").append("status", "queued")).size());
            MongoWriteException duplicate = assertThrows(MongoWriteException.class,
                () -> reopened.jobs().insertOne(new org.bson.Document("_id", "job-00042")));
            assertEquals(11000, duplicate.getCode());
        }
    }
}
