package dev.tandem.replicator.stream;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.List;

/**
 * A piece of one source transaction, in commit order. A transaction is one or more frames with
 * the same {@code xid} and consecutive {@code seq} from 0; only its last frame carries the commit
 * position, so a frame can leave before the transaction's end has been decoded.
 *
 * @param site the source site
 * @param epoch the source site's epoch when the transaction was captured
 * @param prevLsn the commit position of the transaction the capture delivered before this one
 *     (or, first after a capture start, the position from which it resumed): apply checks it is
 *     at or below what it has applied, so a lost transaction is noticed, never skipped
 * @param xid the source transaction id
 * @param seq the frame's place in its transaction, from 0
 * @param last whether this frame ends the transaction
 * @param commitLsn the end of the transaction's commit record (last frame only)
 * @param commitMillis the source commit time (wall clock of the source, for display only)
 * @param rows the row changes, in source order
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record Frame(String site, long epoch, long prevLsn, long xid, int seq, boolean last, Long commitLsn, long commitMillis,
                    List<RowChange> rows) {

    @JsonIgnore
    public long sizeEstimate() {
        long size = 64;
        for (RowChange row : rows) {
            size += row.sizeEstimate();
        }
        return size;
    }
}
