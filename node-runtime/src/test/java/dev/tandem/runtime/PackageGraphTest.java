package dev.tandem.runtime;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.Test;

/**
 * The runtime's packages form a graph without cycles: the HTTP surface ({@code api}) on top, the
 * services and their repositories below it (cluster, execution, job, nodes, ...), the site kernel
 * at the bottom. A domain refusal is a {@code refusal.Refusal}; only {@code api} turns it into an
 * HTTP status, so no service speaks HTTP.
 */
class PackageGraphTest {
    private static final JavaClasses CLASSES = new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .importPackages("dev.tandem.runtime");

    @Test
    void thePackagesDependOnEachOtherWithoutCycles() {
        slices().matching("dev.tandem.runtime.(*)..").should().beFreeOfCycles().check(CLASSES);
    }

    @Test
    void onlyTheApplicationPackageWiresThePartsTogether() {
        noClasses().that().resideInAPackage("dev.tandem.runtime.*..")
                .should().dependOnClassesThat().resideInAPackage("dev.tandem.runtime")
                .because("the application, its configuration and its commands sit on top; nothing below may reach up to them")
                .check(CLASSES);
    }

    @Test
    void nothingBelowTheApiSpeaksHttp() {
        noClasses().that().resideOutsideOfPackages("dev.tandem.runtime.api..", "dev.tandem.runtime")
                .should().dependOnClassesThat().resideInAnyPackage("dev.tandem.runtime.api..", "jakarta.ws.rs..")
                .because("services refuse in domain words (refusal.Refusal); the api maps them to HTTP")
                .check(CLASSES);
    }

    @Test
    void theClusterLoopsSitAboveExecutionsAndJobsNeverBelow() {
        noClasses().that().resideInAnyPackage("dev.tandem.runtime.execution..", "dev.tandem.runtime.job..", "dev.tandem.runtime.nodes..")
                .should().dependOnClassesThat().resideInAPackage("dev.tandem.runtime.cluster..")
                .check(CLASSES);
    }
}
