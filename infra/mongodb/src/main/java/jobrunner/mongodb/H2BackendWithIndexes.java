package jobrunner.mongodb;

import java.util.List;

import org.h2.mvstore.MVStore;
import org.h2.mvstore.type.ObjectDataType;

import de.bwaldvogel.mongo.MongoDatabase;
import de.bwaldvogel.mongo.backend.CursorRegistry;
import de.bwaldvogel.mongo.backend.DatabaseResolver;
import de.bwaldvogel.mongo.backend.Index;
import de.bwaldvogel.mongo.backend.IndexKey;
import de.bwaldvogel.mongo.backend.h2.H2Backend;
import de.bwaldvogel.mongo.backend.h2.H2Database;
import de.bwaldvogel.mongo.bson.Document;
import de.bwaldvogel.mongo.oplog.Oplog;
import io.netty.channel.Channel;

/**
 * The H2 (MVStore file) backend with our index rules. Unique indexes stay the stock ones, stored
 * in the file; secondary indexes live in memory and are rebuilt from the documents when the file
 * is opened.
 */
final class H2BackendWithIndexes extends H2Backend {

    H2BackendWithIndexes(MVStore store) {
        super(store);
    }

    @Override
    protected MongoDatabase openOrCreateDatabase(String databaseName) {
        // Called from H2Backend's constructor too (for every database in the file), after its store is set.
        return new Database(databaseName, getMvStore(), getCursorRegistry());
    }

    static final class Database extends H2Database {

        Database(String databaseName, MVStore store, CursorRegistry cursorRegistry) {
            super(databaseName, store, cursorRegistry);
        }

        @Override
        protected Index<Object> openOrCreateUniqueIndex(String collectionName, String indexName, List<IndexKey> keys,
                                                        boolean sparse) {
            return new PinnedUniqueIndex<>(super.openOrCreateUniqueIndex(collectionName, indexName, keys, sparse), sparse,
                new ObjectDataType());
        }

        @Override
        protected Index<Object> openOrCreateSecondaryIndex(String collectionName, String indexName, List<IndexKey> keys,
                                                           boolean sparse) {
            // A position is the document's _id, the key of the collection's MVMap, whose default
            // key type orders the natural (stored) order.
            return new OrderedSecondaryIndex<>(indexName, keys, sparse, new ObjectDataType());
        }

        @Override
        public Document handleCommand(Channel channel, String command, Document query, DatabaseResolver resolver,
                                      Oplog oplog) {
            if (command.equalsIgnoreCase("aggregate")) {
                clearLastStatus(channel);
                Document response = LeadingMatch.aggregate(this, query, resolver, oplog);
                if (response != null) {
                    return response;
                }
            }
            return super.handleCommand(channel, command, query, resolver, oplog);
        }
    }
}
