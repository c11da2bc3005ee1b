package jobrunner.mongodb;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CountDownLatch;

import org.h2.mvstore.MVStore;

import de.bwaldvogel.mongo.MongoBackend;
import de.bwaldvogel.mongo.MongoServer;
import de.bwaldvogel.mongo.MongoVersion;
import de.bwaldvogel.mongo.backend.h2.H2Backend;
import de.bwaldvogel.mongo.backend.memory.MemoryBackend;

/**
 * The local MongoDB stand-in: mongo-java-server on one address until SIGTERM.
 *
 * <pre>
 * java -Xmx1g -cp 'target/jobrunner-mongodb.jar:target/lib/*' jobrunner.mongodb.Launcher \
 *     --backend h2|memory [--file DATA.mv] [--host 127.0.0.1] [--port 27017] [--stock-indexes]
 * </pre>
 *
 * {@code --stock-indexes} runs the library's backends as they are (for comparisons).
 */
public final class Launcher {

    /** PyMongo 4.20 refuses the library's newest version (5.0, wire 8): it needs wire 9 (4.4). */
    static final MongoVersion MONGODB_4_4 = new MongoVersion() {
        @Override
        public List<Integer> getVersionArray() {
            return List.of(4, 4, 0);
        }

        @Override
        public int getWireVersion() {
            return 9;
        }
    };

    private Launcher() {
    }

    public static void main(String[] args) throws Exception {
        Options options;
        try {
            options = Options.parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println("mongodb launcher: " + e.getMessage());
            System.err.println("usage: Launcher --backend h2|memory [--file PATH] [--host HOST] [--port N] [--stock-indexes]");
            System.exit(2);
            return;
        }
        MongoBackend backend = open(options);
        backend.version(MONGODB_4_4);
        MongoServer server = new MongoServer(backend);
        server.bind(options.host, options.port);
        System.err.printf("mongo-java-server (%s backend%s%s) listening on %s:%d%n", options.backend,
            options.file == null ? "" : ", " + options.file, options.stockIndexes ? ", stock indexes" : "",
            options.host, options.port);

        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            // Closes the clients, then the backend; H2Backend.close() closes the MVStore, which
            // writes every change not yet committed: `make dev` keeps its data across restarts.
            server.shutdownNow();
            System.err.println("mongo-java-server stopped");
            stopped.countDown();
        }, "shutdown"));
        stopped.await();
    }

    static MongoBackend open(Options options) throws Exception {
        if (options.backend.equals("memory")) {
            return options.stockIndexes ? new MemoryBackend() : new MemoryBackendWithIndexes();
        }
        Path file = Path.of(options.file);
        if (file.getParent() != null) {
            Files.createDirectories(file.getParent());
        }
        MVStore store = MVStore.open(file.toString());
        return options.stockIndexes ? new H2Backend(store) : new H2BackendWithIndexes(store);
    }

    static final class Options {
        String backend = "h2";
        String file;
        String host = "127.0.0.1";
        int port = 27017;
        boolean stockIndexes;

        static Options parse(String[] args) {
            Options options = new Options();
            for (int i = 0; i < args.length; i++) {
                String arg = args[i];
                switch (arg) {
                    case "--backend":
                        options.backend = value(args, ++i, arg);
                        break;
                    case "--file":
                        options.file = value(args, ++i, arg);
                        break;
                    case "--host":
                        options.host = value(args, ++i, arg);
                        break;
                    case "--port":
                        try {
                            options.port = Integer.parseInt(value(args, ++i, arg));
                        } catch (NumberFormatException e) {
                            throw new IllegalArgumentException("--port needs a number");
                        }
                        break;
                    case "--stock-indexes":
                        options.stockIndexes = true;
                        break;
                    default:
                        throw new IllegalArgumentException("unknown argument " + arg);
                }
            }
            if (!options.backend.equals("h2") && !options.backend.equals("memory")) {
                throw new IllegalArgumentException("--backend is h2 or memory, not " + options.backend);
            }
            if (options.backend.equals("h2") && options.file == null) {
                throw new IllegalArgumentException("--backend h2 needs --file");
            }
            return options;
        }

        private static String value(String[] args, int i, String name) {
            if (i >= args.length) {
                throw new IllegalArgumentException(name + " needs a value");
            }
            return args[i];
        }
    }
}
