"""What the README says the stack creates is what template.yaml holds: the number of functions
(and of those behind the API), each function's folder, every reserved-concurrency parameter with
its default, the dead-letter queues and every output. The "Layout" block is the folder map, left
out here."""

import re

from shoplocal.template import PROJECT_ROOT, functions, load_template

NUMBER_WORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve"]
_README = (PROJECT_ROOT / "README.md").read_text()
_LAYOUT = _README.index("## Layout")
README = _README[:_LAYOUT] + _README[_README.index("\n## ", _LAYOUT + 1) :]
# The section on what `sam deploy` creates, its lines joined.
DEPLOY = " ".join(
    README[README.index("## Deploy to AWS") : README.index("The API invokes each function through the alias")].split()
)
TEMPLATE = load_template()


def count(number: int) -> str:
    return NUMBER_WORDS[number]


def test_every_count_of_functions_is_the_templates() -> None:
    specs = functions()
    counts = re.findall(rf"\b({'|'.join(NUMBER_WORDS)}|[0-9]+) functions\b", " ".join(README.split()), re.IGNORECASE)
    assert counts, "the README no longer counts the functions"
    assert set(counts) == {count(len(specs))}
    behind_the_api = [spec for spec in specs.values() if spec.routes]
    assert f"{count(len(specs))} functions: {count(len(behind_the_api))} behind the API" in DEPLOY
    assert f"{count(len(specs) - len(behind_the_api))} behind AWS events" in DEPLOY


def test_the_deploy_section_names_every_function_by_its_folder() -> None:
    for spec in functions().values():
        assert f"`{spec.package}`" in DEPLOY, spec.logical_id


def test_every_reserved_concurrency_parameter_is_named_with_its_default() -> None:
    parameters = {name: spec for name, spec in TEMPLATE["Parameters"].items() if name.endswith("ReservedConcurrency")}
    assert len(parameters) == len(functions())  # one per function
    for name, spec in parameters.items():
        assert f"`{name}` ({spec['Default']})" in DEPLOY, name


def test_the_buckets_distribution_queues_and_outputs_are_named() -> None:
    resources = TEMPLATE["Resources"]
    dead_letters = [
        name for name, resource in resources.items() if resource["Type"] == "AWS::SQS::Queue" and "DeadLetters" in name
    ]
    assert f"{count(len(dead_letters))} dead-letter queues" in DEPLOY
    kinds = {resource["Type"] for resource in resources.values()}
    assert {"AWS::S3::Bucket", "AWS::CloudFront::Distribution", "AWS::Events::EventBus"} <= kinds
    for words in ("photo bucket", "CloudFront distribution", "EventBridge bus", "webhook queue"):
        assert words in DEPLOY
    for output in TEMPLATE["Outputs"]:
        assert f"`{output}`" in DEPLOY, output
