# FHIR module: the resource type and patient compartment tables are
# generated from the shared type lists and compartment tables when they are
# there (CI: ../shared beside the checkout) and the generated files are
# committed, so that a build without them works too.

FHIR_DATA ?= $(firstword $(wildcard $(ROOT)/../shared/data/fhir \
                                    $(ROOT)/../../shared/data/fhir))

ifneq ($(wildcard $(FHIR_DATA)/r4-resource-types.txt),)
modules/fhir/fw_fhir_types.c: modules/fhir/gen-types.sh \
        $(wildcard $(FHIR_DATA)/*-resource-types.txt)
	sh modules/fhir/gen-types.sh $(FHIR_DATA) > $@.tmp && mv $@.tmp $@
endif

ifneq ($(wildcard $(FHIR_DATA)/r4-patient-compartment.tsv),)
modules/fhir/fw_fhir_compartment.c: modules/fhir/gen-compartment.sh \
        $(wildcard $(FHIR_DATA)/*-patient-compartment.tsv)
	sh modules/fhir/gen-compartment.sh $(FHIR_DATA) > $@.tmp && mv $@.tmp $@
endif

.PHONY: fhir-types
fhir-types: modules/fhir/fw_fhir_types.c modules/fhir/fw_fhir_compartment.c
