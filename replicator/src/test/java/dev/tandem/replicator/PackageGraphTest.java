package dev.tandem.replicator;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.Test;

/**
 * The replicator's packages form a graph without cycles, so each can be read, tested and changed
 * with only what lies below it: the stream format and settings at the bottom, the control loops
 * above them, the admin surface and the application (which wires everything) on top.
 */
class PackageGraphTest {
    private static final JavaClasses CLASSES = new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .importPackages("dev.tandem.replicator");

    @Test
    void thePackagesDependOnEachOtherWithoutCycles() {
        slices().matching("dev.tandem.replicator.(*)..").should().beFreeOfCycles().check(CLASSES);
    }

    @Test
    void onlyTheApplicationPackageWiresThePartsTogether() {
        noClasses().that().resideInAPackage("dev.tandem.replicator.*..")
                .should().dependOnClassesThat().resideInAPackage("dev.tandem.replicator")
                .because("the application, its configuration and its commands sit on top; nothing below may reach up to them")
                .check(CLASSES);
    }

    @Test
    void theFailoverLoopsKnowReplicationOnlyThroughItsInterface() {
        noClasses().that().resideInAPackage("dev.tandem.replicator.failover..")
                .should().dependOnClassesThat().resideInAnyPackage("dev.tandem.replicator.cluster..", "dev.tandem.replicator.api..",
                        "dev.tandem.replicator.admin..")
                .check(CLASSES);
    }
}
