package jobrunner.mongodb;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;

import de.bwaldvogel.mongo.MongoCollection;
import de.bwaldvogel.mongo.backend.Index;
import de.bwaldvogel.mongo.bson.Document;
import de.bwaldvogel.mongo.exception.KeyConstraintError;

/**
 * A backend's own unique index (the {@code _id} index included) with MongoDB's planner rule
 * added: it also answers a query that pins every one of its fields to a plain value, whatever
 * other fields the query has ({@code {_id: X, status: "queued", attempt: 2}},
 * {@code {_id: X, tenant_id: T}}). The stock rule ({@code AbstractUniqueIndex.canHandle})
 * requires the query's fields to be exactly the index's, so those queries scanned the whole
 * collection. The lookup uses only the pinned fields; the server applies the whole filter to the
 * one document found ({@code AbstractMongoCollection.queryDocuments}), so results are unchanged.
 *
 * <p>A single-field index also answers an {@code $in} of plain values on its field beside other
 * fields ({@code {_id: {$in: [...]}, attempt: 2}}), as MongoDB's planner does: the stock rule
 * takes an {@code $in} only alone, so such a query scanned the collection and matched every
 * document against every value. The documents found come in the collection's natural order, as
 * from a scan.
 *
 * <p>Everything else (storage, uniqueness checks, H2 persistence) is the stock index's.
 */
final class PinnedUniqueIndex<P> extends Index<P> {

    private final Index<P> stock;
    private final boolean usable;
    private final Comparator<? super P> naturalOrder;

    PinnedUniqueIndex(Index<P> stock, boolean sparse, Comparator<? super P> naturalOrder) {
        super(stock.getName(), stock.getKeys(), sparse);
        this.stock = stock;
        this.usable = keys().stream().noneMatch(QueryTerms::hasArrayPosition);
        this.naturalOrder = naturalOrder;
    }

    @Override
    public boolean canHandle(Document query) {
        return stock.canHandle(query) || pinnedQuery(query) != null;
    }

    @Override
    public Iterable<P> getPositions(Document query) {
        if (stock.canHandle(query)) {
            return stock.getPositions(query);
        }
        Document pinned = pinnedQuery(query);
        if (pinned == null) {
            throw new IllegalStateException(this + " cannot answer " + query);
        }
        if (!(pinned.get(keys().get(0)) instanceof Document)) {
            return stock.getPositions(pinned); // one value: one document at most
        }
        List<P> positions = new ArrayList<>(); // an $in: in natural order, as a scan finds them
        stock.getPositions(pinned).forEach(positions::add);
        positions.sort(naturalOrder);
        return positions;
    }

    /** True when the stock rule would not have used this index for the query, but ours does. */
    boolean answersBeyondStock(Document query) {
        return !stock.canHandle(query) && pinnedQuery(query) != null;
    }

    /**
     * The query reduced to this index's fields, when it pins all of them (or, on a single-field
     * index, puts an {@code $in} of plain values on it); else null.
     */
    Document pinnedQuery(Document query) {
        if (!usable) {
            return null;
        }
        Document pinned = new Document();
        for (String key : keys()) {
            if (!query.containsKey(key)) {
                return null;
            }
            // The stock lookup takes an embedded document as a value on one field only.
            Object value = QueryTerms.pinnedValue(query.get(key), !isCompoundIndex());
            if (value == QueryTerms.NONE) {
                List<Object> in = isCompoundIndex() ? null : inValues(query.get(key));
                if (in == null) {
                    return null;
                }
                value = new Document("$in", in);
            }
            pinned.put(key, value);
        }
        return pinned;
    }

    /** The values of a term that is an {@code $in} of plain values and nothing else; else null. */
    private static List<Object> inValues(Object term) {
        if (!(term instanceof Document) || ((Document) term).size() != 1
            || !(((Document) term).get("$in") instanceof Collection)) {
            return null;
        }
        List<Object> values = new ArrayList<>();
        for (Object value : (Collection<?>) ((Document) term).get("$in")) {
            Object pinned = QueryTerms.pinnedValue(value, false);
            if (pinned == QueryTerms.NONE) {
                return null; // null, a regex, an array or a document: left to a scan
            }
            values.add(pinned);
        }
        return values;
    }

    @Override
    public P getPosition(Document document) {
        return stock.getPosition(document);
    }

    @Override
    public void checkAdd(Document document, MongoCollection<P> collection) {
        stock.checkAdd(document, collection);
    }

    @Override
    public void add(Document document, P position, MongoCollection<P> collection) {
        stock.add(document, position, collection);
    }

    @Override
    public P remove(Document document) {
        return stock.remove(document);
    }

    @Override
    public long getCount() {
        return stock.getCount();
    }

    @Override
    public boolean isEmpty() {
        return stock.isEmpty();
    }

    @Override
    public long getDataSize() {
        return stock.getDataSize();
    }

    @Override
    public void checkUpdate(Document oldDocument, Document newDocument, MongoCollection<P> collection) {
        stock.checkUpdate(oldDocument, newDocument, collection);
    }

    @Override
    public void updateInPlace(Document oldDocument, Document newDocument, P position, MongoCollection<P> collection)
        throws KeyConstraintError {
        stock.updateInPlace(oldDocument, newDocument, position, collection);
    }

    @Override
    public void drop() {
        stock.drop();
    }

    @Override
    public boolean isUnique() {
        return true;
    }
}
