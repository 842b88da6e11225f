package dev.tandem.replicator.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * One directed network link in front of a real server, which a test can cut like a partition:
 * while cut, nothing flows in either direction on any connection through it, old or new, and
 * nothing is reset — bytes wait (as a real network's retransmissions would) and clients see only
 * silence, so they must rely on their own timeouts. Restoring lets the waiting bytes through.
 */
public final class LinkProxy implements AutoCloseable {
    private final String name;
    private final ServerSocket listener;
    private final int target;
    private final List<Socket> open = new CopyOnWriteArrayList<>();
    private final Object gate = new Object();
    private volatile boolean cut;

    public LinkProxy(String name, int target) {
        this.name = name;
        this.target = target;
        try {
            listener = new ServerSocket();
            listener.bind(new InetSocketAddress("127.0.0.1", 0));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Thread acceptor = new Thread(this::accept, "link-" + name);
        acceptor.setDaemon(true);
        acceptor.start();
    }

    public int port() {
        return listener.getLocalPort();
    }

    public String url() {
        return "http://127.0.0.1:" + port();
    }

    /** Blackholes the link: no byte passes until {@link #restore()}. */
    public void cut() {
        cut = true;
    }

    public void restore() {
        synchronized (gate) {
            cut = false;
            gate.notifyAll();
        }
    }

    public boolean isCut() {
        return cut;
    }

    private void awaitOpen() throws InterruptedException {
        synchronized (gate) {
            while (cut) {
                gate.wait(100);
            }
        }
    }

    private void accept() {
        while (!listener.isClosed()) {
            Socket client;
            try {
                client = listener.accept();
            } catch (IOException e) {
                return;
            }
            open.add(client);
            Thread connect = new Thread(() -> {
                try {
                    awaitOpen(); // a connection made during a cut hangs, as a SYN into a partition would
                    Socket server = new Socket("127.0.0.1", target);
                    open.add(server);
                    pump(client, server);
                    pump(server, client);
                } catch (IOException | InterruptedException e) {
                    closeQuietly(client);
                }
            }, "link-" + name + "-connect");
            connect.setDaemon(true);
            connect.start();
        }
    }

    private void pump(Socket from, Socket to) {
        Thread thread = new Thread(() -> {
            byte[] buffer = new byte[16 * 1024];
            try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
                while (true) {
                    awaitOpen(); // while cut, nothing is read: bytes wait in the socket buffers
                    int n = in.read(buffer);
                    if (n < 0) {
                        return;
                    }
                    awaitOpen(); // what was read as the cut began waits for the link too
                    out.write(buffer, 0, n);
                    out.flush();
                }
            } catch (IOException | InterruptedException e) {
                // the other side closed it
            } finally {
                closeQuietly(from);
                closeQuietly(to);
                open.remove(from);
                open.remove(to);
            }
        }, "link-" + name + "-pump");
        thread.setDaemon(true);
        thread.start();
    }

    private static void closeQuietly(Socket socket) {
        try {
            socket.close();
        } catch (IOException ignored) {
            // closing a test connection
        }
    }

    @Override
    public void close() {
        try {
            listener.close();
        } catch (IOException ignored) {
            // closing the test listener
        }
        open.forEach(LinkProxy::closeQuietly);
        restore();
    }
}
