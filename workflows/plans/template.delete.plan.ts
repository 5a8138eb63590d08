import type { OperationPlan, TemplateDeleteInput } from '../../libs/contracts/src';

/** The summary of its workflow in the Temporal UI: a template has no VM to name. */
export const deleteTemplateSummary = (input: TemplateDeleteInput): string => `template.delete ${input.name}`;

/**
 * template.delete: the image goes from the store (no return), then the record. The API checks no VM uses it and
 * marks it deleting; if the image could not be deleted, the template is ready again.
 */
export function deleteTemplatePlan({ nodeId, templateId, name }: TemplateDeleteInput): OperationPlan {
  return {
    steps: [
      {
        name: 'deleteImage',
        commit: true,
        do: { activity: 'deleteImage', args: { nodeId, imageId: templateId }, summary: `Delete the image of template ${name}` },
      },
      { name: 'forgetTemplate', do: { activity: 'forgetTemplate', args: { templateId }, summary: `Drop the record of template ${name}` } },
    ],
    afterCompensation: {
      activity: 'markTemplateReady',
      args: { templateId },
      summary: `Record template ${name} as ready again: its image is kept`,
    },
  };
}
