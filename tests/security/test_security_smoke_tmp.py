from security_scenario import Scenario


def test_scenario(world):
    s = Scenario.build(world)
    print(s.ids)
