import herald


def test_all_exports_exist_and_are_public():
    for name in herald.__all__:
        assert hasattr(herald, name), name
    exported = {name for name, value in vars(herald).items() if not name.startswith("_") and isinstance(value, type)}
    assert exported <= set(herald.__all__)


def test_run_agent_reexports_the_same_class():
    import run_agent

    assert run_agent.AIAgent is herald.AIAgent


def test_the_async_agent_and_the_typed_result_are_public():
    assert {"AsyncAIAgent", "TurnResult"} <= set(herald.__all__)
    assert herald.AsyncAIAgent.run_conversation is not herald.AIAgent.run_conversation
