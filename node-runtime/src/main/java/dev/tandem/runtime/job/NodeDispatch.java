package dev.tandem.runtime.job;

/**
 * Where a job's node steps run: Rundeck's {@code nodefilters} block. The filter and the thread
 * count may refer to options ({@code ${option.x}}); they are expanded when the run starts.
 *
 * @param filter        Rundeck node filter selecting the nodes
 * @param excludeFilter legacy separate exclusion filter (empty when absent)
 * @param threadcount   how many nodes run at once (text, may be an option reference)
 * @param keepgoing     whether the other nodes go on after one node fails
 * @param rankAttribute the node attribute that orders the nodes ({@code name} by default)
 * @param descending    {@code rankOrder: descending}
 * @param excludePrecedence whether a node matched by both the filter and {@code excludeFilter} is left out
 * @param successOnEmpty    whether a filter that matches no node counts as success
 */
public record NodeDispatch(String filter, String excludeFilter, String threadcount, boolean keepgoing, String rankAttribute,
                           boolean descending, boolean excludePrecedence, boolean successOnEmpty) {}
