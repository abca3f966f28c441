"""The landing-folder sensor: new or changed files start one build run covering all of them."""

import dagster as dg

from pipelines.jobs import build_dataset_job
from pipelines.partitions import LISTING_FILES_PARTITION, listing_files_partitions
from pipelines.planning import plan_build
from pipelines.resources import PipelineSettings


@dg.sensor(
    job=build_dataset_job,
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.STOPPED,
    description="Watches the landing folder; adds a partition for each new file and requests "
    "one run over every new or changed file.",
)
def landing_folder_sensor(
    context: dg.SensorEvaluationContext, settings: PipelineSettings
) -> dg.SensorResult | dg.SkipReason:
    known = context.instance.get_dynamic_partitions(LISTING_FILES_PARTITION)
    plan = plan_build(settings.paths, known)
    if not plan.pending:
        return dg.SkipReason("no new or changed file in the landing folder")
    # the run key makes a re-evaluation before the run finishes request nothing twice
    run_key = f"landing-{plan.fingerprint}"
    return dg.SensorResult(
        run_requests=[dg.RunRequest(run_key=run_key, tags=plan.run_tags)],
        dynamic_partitions_requests=[
            listing_files_partitions.build_add_request(plan.new_partitions)
        ]
        if plan.new_partitions
        else [],
    )
