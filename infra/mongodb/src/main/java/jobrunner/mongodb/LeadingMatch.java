package jobrunner.mongodb;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.util.List;

import de.bwaldvogel.mongo.MongoCollection;
import de.bwaldvogel.mongo.MongoDatabase;
import de.bwaldvogel.mongo.backend.DatabaseResolver;
import de.bwaldvogel.mongo.backend.Index;
import de.bwaldvogel.mongo.backend.Utils;
import de.bwaldvogel.mongo.backend.aggregation.Aggregation;
import de.bwaldvogel.mongo.bson.Document;
import de.bwaldvogel.mongo.oplog.Oplog;

/**
 * An aggregation that starts with {@code $match} reads its input through one of our indexes, as
 * MongoDB's does (stock: the pipeline always starts from every document of the collection).
 * PyMongo's {@code count_documents} is such a pipeline ({@code $match} then {@code $group}).
 *
 * <p>Only when the index that the server's own query would pick is one of ours
 * ({@link OrderedSecondaryIndex}, or {@link PinnedUniqueIndex} beyond the stock rule): those
 * return documents in natural order, so the pipeline sees exactly the documents, in exactly the
 * order, that the stock {@code $match} stage would have let through; the stage still runs.
 */
final class LeadingMatch {

    private LeadingMatch() {
    }

    /** The reply to an {@code aggregate} command, or null to leave it to the stock code. */
    static Document aggregate(MongoDatabase database, Document command, DatabaseResolver resolver, Oplog oplog) {
        if (!(command.get("aggregate") instanceof String) || !(command.get("pipeline") instanceof List)) {
            return null;
        }
        List<?> stages = (List<?>) command.get("pipeline");
        if (stages.isEmpty() || !stages.stream().allMatch(Document.class::isInstance)) {
            return null;
        }
        Document first = (Document) stages.get(0);
        if (first.size() != 1 || !(first.get("$match") instanceof Document)) {
            return null;
        }
        MongoCollection<?> collection = database.resolveCollection((String) command.get("aggregate"), false);
        Document match = (Document) first.get("$match");
        if (collection == null || !answeredByOurIndex(collection, match)) {
            return null;
        }
        List<Document> pipeline = Aggregation.parse(stages);
        Aggregation aggregation = Aggregation.fromPipeline(pipeline, resolver, database, reading(collection, match), oplog);
        aggregation.validate(command);
        List<Document> result = aggregation.computeResult();

        Document cursor = new Document("id", 0L).append("ns", collection.getFullName()).append("firstBatch", result);
        Document response = new Document("cursor", cursor);
        Utils.markOkay(response);
        return response;
    }

    private static boolean answeredByOurIndex(MongoCollection<?> collection, Document match) {
        for (Index<?> index : collection.getIndexes()) {
            if (index.canHandle(match)) {  // the same choice as AbstractMongoCollection.queryDocuments
                return index instanceof OrderedSecondaryIndex
                    || (index instanceof PinnedUniqueIndex && ((PinnedUniqueIndex<?>) index).answersBeyondStock(match));
            }
        }
        return false;
    }

    /** The collection, except that "all its documents" are those matching {@code match}. */
    private static MongoCollection<?> reading(MongoCollection<?> collection, Document match) {
        InvocationHandler handler = (proxy, method, args) -> {
            if (method.getParameterCount() == 0 && method.getName().equals("queryAllAsStream")) {
                return collection.handleQueryAsStream(match);
            }
            if (method.getParameterCount() == 0 && method.getName().equals("queryAll")) {
                return collection.handleQuery(match);
            }
            try {
                return method.invoke(collection, args);
            } catch (InvocationTargetException e) {
                throw e.getCause();
            }
        };
        return (MongoCollection<?>) Proxy.newProxyInstance(MongoCollection.class.getClassLoader(),
            new Class<?>[] {MongoCollection.class}, handler);
    }
}
