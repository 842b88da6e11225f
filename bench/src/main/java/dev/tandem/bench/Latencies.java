package dev.tandem.bench;

import org.HdrHistogram.DoubleHistogram;

/**
 * Latency samples in milliseconds and their percentiles, by HdrHistogram (three significant
 * digits): the one percentile definition of every benchmark. An empty set has no percentile
 * (NaN).
 */
final class Latencies {
    private final DoubleHistogram histogram = new DoubleHistogram(3);

    /** Records one sample; a negative one (clocks a hair apart) counts as zero. */
    void add(double millis) {
        histogram.recordValue(Math.max(0, millis));
    }

    long count() {
        return histogram.getTotalCount();
    }

    /** The value at percentile {@code p} (0–100), NaN without samples. */
    double percentile(double p) {
        return count() == 0 ? Double.NaN : histogram.getValueAtPercentile(p);
    }

    double max() {
        return count() == 0 ? Double.NaN : histogram.getMaxValue();
    }
}
