#!/usr/bin/env python3
"""Independent TSP baseline for wangge's patrol route planner benchmark (benches/patrol.rs).

Solves each instance with Google OR-Tools routing (PATH_CHEAPEST_ARC first solution,
GUIDED_LOCAL_SEARCH, fixed time limit) so the planner's tours can be compared with a
well-known solver. Needs only `ortools` (pip install ortools).

stdin:  {"time_limit_s": 10, "instances": [{"name": "...", "start": 0,
          "matrix": [[metres, ...], ...]}, ...]}
        Symmetric integer distance matrices in metres; `start` is the depot. A tour starts
        and ends at the depot and visits every node once.
stdout: {"solver": "ortools <version>", "results": [{"name": "...", "length": <int metres>,
          "tour": [start, ..., start], "seconds": <float>}, ...]}

Instances are solved one after another. `--time-limit S` overrides time_limit_s.
Errors go to stderr with a non-zero exit status.
"""
import argparse
import json
import sys
import time

import ortools
from ortools.constraint_solver import pywrapcp, routing_enums_pb2


def solve(matrix, start, time_limit_s):
    """Return (length, tour) of the best tour found from depot `start` within the limit."""
    n = len(matrix)
    if n == 0 or any(len(row) != n for row in matrix) or not 0 <= start < n:
        raise ValueError("matrix must be square and non-empty, start a valid index")
    if n == 1:
        return 0, [start, start]
    manager = pywrapcp.RoutingIndexManager(n, 1, start)
    routing = pywrapcp.RoutingModel(manager)

    def distance(i, j):  # kept in a local so it outlives the solve
        return matrix[manager.IndexToNode(i)][manager.IndexToNode(j)]

    transit = routing.RegisterTransitCallback(distance)
    routing.SetArcCostEvaluatorOfAllVehicles(transit)
    params = pywrapcp.DefaultRoutingSearchParameters()
    params.first_solution_strategy = routing_enums_pb2.FirstSolutionStrategy.PATH_CHEAPEST_ARC
    params.local_search_metaheuristic = (
        routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH)
    params.time_limit.FromMilliseconds(max(1, round(time_limit_s * 1000)))
    solution = routing.SolveWithParameters(params)
    if solution is None:
        raise RuntimeError("OR-Tools found no solution")
    index, tour = routing.Start(0), []
    while not routing.IsEnd(index):
        tour.append(manager.IndexToNode(index))
        index = solution.Value(routing.NextVar(index))
    tour.append(manager.IndexToNode(index))
    length = sum(matrix[a][b] for a, b in zip(tour, tour[1:]))
    return length, tour


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--time-limit", type=float, metavar="S",
                        help="seconds per instance (overrides time_limit_s)")
    args = parser.parse_args()
    try:
        doc = json.load(sys.stdin)
        limit = args.time_limit if args.time_limit is not None else doc["time_limit_s"]
        results = []
        for inst in doc["instances"]:
            t0 = time.perf_counter()
            length, tour = solve(inst["matrix"], inst.get("start", 0), float(limit))
            results.append({"name": inst["name"], "length": int(length), "tour": tour,
                            "seconds": round(time.perf_counter() - t0, 3)})
    except Exception as e:  # report any bad input or solver failure, then exit non-zero
        print(f"ortools_tsp: error: {type(e).__name__}: {e}", file=sys.stderr)
        return 1
    json.dump({"solver": f"ortools {ortools.__version__}", "results": results}, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
