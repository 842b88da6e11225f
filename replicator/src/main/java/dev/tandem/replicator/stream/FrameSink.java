package dev.tandem.replicator.stream;


/** Where the capture hands its frames: the direct stream's buffer, or a Kafka topic. */
public interface FrameSink extends AutoCloseable {

    /** Publishes a frame in order; may block while the passive sites catch up. */
    void publish(Frame frame) throws InterruptedException;

    /**
     * The newest source commit that every configured passive site has durably applied; the
     * capture confirms its slot no further than this. {@code -1} when some site has applied nothing.
     */
    long appliedEverywhere();

    @Override
    void close();
}
